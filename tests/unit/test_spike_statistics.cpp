// Thinning gives Poisson spike trains with the right rate; time-varying rates are followed.
// Margins: counts are Poisson, so a 5-sigma bound is 5 sqrt(expected); the ISI distribution is
// checked with a Kolmogorov-Smirnov test at significance 1e-4 (critical D = 2.15 / sqrt(n)).
#include <algorithm>
#include <cmath>

#include <catch2/catch.hpp>

#include "neurons/poisson_source.hpp"
#include "neurons/urbanczik_senn_neuron.hpp"
#include "recording_observer.hpp"

using namespace settle;

namespace {

double ks_exponential(std::vector<double> samples, double rate) {
    std::sort(samples.begin(), samples.end());
    const double n = static_cast<double>(samples.size());
    double d = 0.0;
    for (std::size_t i = 0; i < samples.size(); ++i) {
        const double cdf = 1.0 - std::exp(-rate * samples[i]);
        d = std::max({d, std::abs(cdf - static_cast<double>(i) / n), std::abs(cdf - static_cast<double>(i + 1) / n)});
    }
    return d;
}

std::vector<double> intervals(const std::vector<testing::RecordingObserver::Spike>& spikes, node_index node) {
    std::vector<double> isi;
    double last = -1.0;
    for (const auto& s : spikes)
        if (s.node == node) {
            if (last >= 0.0) isi.push_back(s.t - last);
            last = s.t;
        }
    return isi;
}

testing::RecordingObserver run_silent_neuron(double t_ref, double t_stop, std::uint64_t seed) {
    // theta = E_L makes phi(E_L) = phi_max / (1 + k) = 0.1 /ms: thinning keeps 2/3 of candidates.
    auto p = UrbanczikSennParameters::nest();
    p.theta = p.E_L;
    p.t_ref = t_ref;
    Network net;
    net.add_population(std::make_unique<UrbanczikSennPopulation>("n", 4, p));
    Simulator sim(net, seed);
    sim.record_spikes(0);
    testing::RecordingObserver obs;
    sim.run(0.0, t_stop, obs);
    return obs;
}

}  // namespace

TEST_CASE("thinning yields a Poisson process at rate phi(U)", "[statistics]") {
    const double rate = 0.1, t_stop = 250000.0;  // per ms; 4 neurons x 25,000 expected spikes
    const auto obs = run_silent_neuron(0.0, t_stop, 11);
    const double expected = 4 * rate * t_stop;
    CHECK(std::abs(static_cast<double>(obs.spikes.size()) - expected) < 5.0 * std::sqrt(expected));
    for (node_index n = 0; n < 4; ++n) {
        const auto isi = intervals(obs.spikes, n);
        CHECK(ks_exponential(isi, rate) < 2.15 / std::sqrt(static_cast<double>(isi.size())));
    }
}

TEST_CASE("dead time: intervals are t_ref plus an exponential", "[statistics]") {
    const double rate = 0.1, t_ref = 3.0;
    const auto obs = run_silent_neuron(t_ref, 200000.0, 12);
    auto isi = intervals(obs.spikes, 0);
    REQUIRE(isi.size() > 10000);
    CHECK(*std::min_element(isi.begin(), isi.end()) >= t_ref);
    for (double& x : isi) x -= t_ref;
    CHECK(ks_exponential(isi, rate) < 2.15 / std::sqrt(static_cast<double>(isi.size())));
}

TEST_CASE("a constant-rate Poisson source has Poisson counts", "[statistics]") {
    Network net;
    net.add_population(PoissonSource::constant("p", 200, {20.0}));
    Simulator sim(net, 5);
    sim.record_spikes(0);
    testing::RecordingObserver obs;
    sim.run(0.0, 10000.0, obs);
    const double expected = 200 * 20.0 * 10.0;
    CHECK(std::abs(static_cast<double>(obs.spikes.size()) - expected) < 5.0 * std::sqrt(expected));
    const auto isi = intervals(obs.spikes, 17);
    CHECK(ks_exponential(isi, 0.02) < 2.15 / std::sqrt(static_cast<double>(isi.size())));
}

TEST_CASE("a sinusoidal rate is followed", "[statistics]") {
    PoissonSource::Sinusoid s{50.0, 40.0, 100.0, 0.0};
    Network net;
    net.add_population(PoissonSource::sinusoidal("p", 500, s));
    Simulator sim(net, 9);
    sim.record_spikes(0);
    testing::RecordingObserver obs;
    const double t_stop = 20000.0;
    sim.run(0.0, t_stop, obs);
    constexpr int bins = 10;
    std::vector<double> counts(bins, 0.0);
    for (const auto& sp : obs.spikes) counts[static_cast<std::size_t>(std::fmod(sp.t, 100.0) / 10.0)] += 1;
    for (int b = 0; b < bins; ++b) {
        // Expected count: 500 nodes x 200 periods x integral of the rate over the bin (Hz -> 1/ms).
        const double t0 = 10.0 * b, t1 = t0 + 10.0;
        const double integral = 1e-3 * (50.0 * 10.0 + 40.0 * 100.0 / (2 * M_PI) * (std::cos(2 * M_PI * t0 / 100.0) - std::cos(2 * M_PI * t1 / 100.0)));
        const double expected = 500 * 200 * integral;
        INFO("bin " << b << " expected " << expected << " got " << counts[b]);
        CHECK(std::abs(counts[b] - expected) < 5.0 * std::sqrt(expected));
    }
}

TEST_CASE("background input gives the shot-noise mean of the dendrite", "[statistics][neuron]") {
    // Campbell's theorem: a Poisson train at rate r of weight w through the kernel
    // eps(t) = c (e^{-t/tau_L} - e^{-t/tau_s}) gives mean r w c (tau_L - tau_s) and variance
    // r w^2 c^2 (tau_L/2 + tau_s/2 - 2 tau_L tau_s / (tau_L + tau_s)). Samples 50 ms apart
    // (5 tau_L) are nearly independent, so the sample mean lies within 5 standard errors.
    auto p = UrbanczikSennParameters::nest();
    p.background_rate_hz = 1000.0;
    p.background_weight = 100.0;
    Network net;
    net.add_population(std::make_unique<UrbanczikSennPopulation>("n", 4, p));
    Simulator sim(net, 21);
    StateProbe probe;
    probe.population = 0;
    probe.nodes = {0, 1, 2, 3};
    probe.element_ids = {UrbanczikSennPopulation::V_w};
    probe.start = 100.0;
    probe.dt = 50.0;
    sim.add_probe(probe);
    testing::RecordingObserver obs;
    sim.run(0.0, 500000.0, obs);
    const double r = 1.0, w = 100.0, c = p.psp_scale(), tL = p.tau_L(), ts = p.tau_syn_d;
    const double mean = r * w * c * (tL - ts);
    const double sd = std::sqrt(r * w * w * c * c * (tL / 2 + ts / 2 - 2 * tL * ts / (tL + ts)));
    double sum = 0.0, n = 0.0;
    for (const auto& row : obs.rows)
        for (double v : row) {
            sum += v - p.E_L;
            n += 1.0;
        }
    REQUIRE(n > 30000);
    CHECK(std::abs(sum / n - mean) < 5.0 * sd / std::sqrt(n));
}
