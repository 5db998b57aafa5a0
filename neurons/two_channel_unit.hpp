#pragma once
// The learning circuit's two-compartment unit, with a somatic and a prediction spike channel.
//
// Model (potentials unitless relative to rest, time in ms, rates in 1/ms; after Urbanczik & Senn
// 2014, Neuron 81:521, and the settle-and-delta-rule circuit of networks/circuit/spiking_circuit.hpp):
//   dendrite   V*(t)   = k (I_d(t) + b)                 k = g_D / (g_L + g_D), b a learnable bias
//   soma       tau dU/dt    = -U + V* + I_n(t) + g(t) (y - U)
//   prediction tau dVbar/dt = -Vbar + V*                 (U's lag-matched, un-nudged twin)
// I_d and I_n are the inputs of the receptors "dendrite" and "nudge": filtered spike trains,
//   tau_s dI/dt = -I + sum over input spikes of the delivered amount (DenseTarget),
// plus a constant per unit (add_constant: the dendrite's is the bias b; the nudge's, n_c, comes
// from projections whose source decodes with an offset, e.g. the lateral interneurons'),
// and g(t) >= 0 is the teacher's conductance toward the targets y (in units of g_L + g_D),
// piecewise constant and set by a driver (set_teacher): 0 for hidden layers.
//
// Emission: Poisson by thinning. Each replica has one stream of candidates at rate n r_max (n
// units); a candidate picks a unit uniformly and one uniform u, and the unit spikes on
//   channel 0 (somatic)    iff u < p(U)
//   channel 1 (prediction) iff u < p(Vbar)
// so each channel is a Poisson train of rate r_max p(.), and the two differ only where U and Vbar
// differ (common random numbers). p is the logistic 1 / (1 + e^-U) or, for `linear`, the clamp
// (U - lo) / (hi - lo) to [0, 1].
//
// Exact advance, no time step: every input is a sum of exponentials in tau_s and the teacher is
// piecewise constant, so the state is a closed form in a few per-unit coefficients relative to a
// per-replica reference time t0 (D = t - t0, E = e^(-D/tau), Es = e^(-D/tau_s), C = tau_s / (tau_s - tau)):
//   Vbar(t) = k b + Vp E + C A Es              (A: dendritic input at t0, times k)
//   U(t) = Vbar(t) + N(t), with the nudge's and teacher's part N:
//     teacher off: N = Np E + C B Es + n_c        (B: nudge input at t0)
//     teacher on (a = 1 + g, Ea = e^(-a D/tau), K = 1 / (a - tau/tau_s)):
//                  N = Nf Ea + (g (y - k b) + n_c) / a - Vp E + (B - g C A) K Es
// An input adds to A or B and corrects Vp, Np or Nf so that U and Vbar stay continuous; a teacher
// switch re-expresses N in the new regime. Storing U as Vbar + N keeps them bitwise equal until a
// nudge or a teacher first acts (N is exactly 0 then), so the two channels agree and no
// plasticity rule that compares them changes a weight. rebase(r, t) moves the reference time of
// replica r to t (the exponentials e^(D a / tau) grow with D). The kernel rebases every
// population on a fixed grid (Simulator::set_rebase_interval, 100 ms by default) and a driver
// may rebase at its own schedule-fixed times too; an advance too far from t0 is an error.
// With tau_s = tau (C not finite) the tau_s parts take the shape (D / tau) e^(-D/tau) instead:
//   Vbar(t) = k b + Vp E + A (D/tau) E,   teacher off: N = Np E + B (D/tau) E + n_c,
//   teacher on (K = 1/g): N = Nf Ea + (g (y - k b) + n_c) / a - Vp E + (A + B) K E - A (D/tau) E,
// and a rebase by s moves A s / tau into Vp (B s / tau into Np). Soma coupling needs tau_s != tau.
//
// Soma coupling (couple_soma_to): the teacher may instead be a permanent conductance g toward
// the somatic potential U_src(t) of the same unit and replica of another two_channel_unit
// population without a teacher (the circuit's learned-feedback units follow their layer's
// potential). Between the source's events U_src = k b_src + n_c,src + cE E + cEs Es, so the
// target is y(t) = y0 + yE E + yEs Es, and N's particular part is
//   (g (y0 - k b) + n_c) / a + (yE - Vp) E + (B + g (yEs - C A)) K Es.
// Whenever the source's coefficients change (an input or a constant's change) it tells the coupled
// population, which takes the new y coefficients and corrects Nf so that N stays continuous: the
// coupling is exact, with no time step and no sampling of U_src.
//
// Deferred column adds: a presynaptic spike through a weight matrix adds a column to A and Vp of
// every unit, which costs a load and a store of both per unit and spike. A replica instead keeps
// up to max_pending such columns (pointer and the two factors) and applies them in one pass
// (commit), in arrival order per unit, so every coefficient is the same bit for bit; reads in
// between (potentials, receptor_input) add the pending terms to the one unit they read, in the
// same order. Anything else that reads or writes A or Vp commits first. Only dendritic columns of
// replicas without a teacher, in populations without coupling, are deferred (the others change
// more than A and Vp).
//
// Node ids: (replica * 2 + channel) * units + unit. State variables: U, Vbar, V* (read() is a
// pure function of the coefficients: reading never changes the state or its advance).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/dense_projection.hpp"
#include "sim/parameters.hpp"
#include "sim/population.hpp"
#include "sim/random.hpp"

namespace settle {

struct TwoChannelUnitParameters {
    double tau_ms = 5.0;           // somatic time constant C / (g_L + g_D), ms
    double synapse_tau_ms = 20.0;  // low-pass of the dendritic and nudge inputs, ms
    double k = 2.0 / 2.1;          // dendritic coupling g_D / (g_L + g_D)
    double rate_max_hz = 1600.0;   // candidate rate (maximum rate) of each unit, Hz
    enum class Emission { logistic, linear } emission = Emission::logistic;
    double lo = -3.0, hi = 3.0;    // linear emission: the potentials the rate spans
    // The slope of the decoded signal a = lo + (hi - lo) p for linear emission, 1 for logistic:
    // the scale c of the rules that learn from this unit's channels.
    double decoded_slope() const { return emission == Emission::linear ? hi - lo : 1.0; }
    // The numeric parameters above (emission is a choice): name, unit, meaning; the defaults are
    // the initialisers above. Configs read them through this table (networks/network_builder.cpp).
    static const std::vector<ParameterInfo<TwoChannelUnitParameters>>& table();
};

class TwoChannelUnitPopulation final : public Population, public DenseTarget {
public:
    static constexpr int dendrite = 0, nudge = 1;
    static constexpr int element_U = 0, element_Vbar = 1, element_Vstar = 2;

    // first_replica offsets the replicas' stream keys (a block of a larger set of replicas).
    TwoChannelUnitPopulation(std::string name, std::size_t units, std::uint32_t replicas,
                             TwoChannelUnitParameters p, std::uint32_t first_replica = 0);

    std::string model() const override { return "two_channel_unit"; }
    void initialize(std::uint64_t seed, time_ms t_start) override;
    std::vector<std::string> receptors() const override { return {"dendrite", "nudge"}; }

    std::uint32_t channels() const override { return 2; }
    std::uint32_t replicas() const override { return replicas_; }
    bool streams_are_nodes() const override { return false; }
    std::size_t emission_streams() const override { return replicas_; }
    time_ms next_stream_candidate(std::size_t stream) const override { return rep_[stream].next; }
    Emission resolve_stream(std::size_t stream, time_ms t) override;
    void rebase(std::uint32_t replica, time_ms t) override;
    // e^(a D / tau) stays far from overflow (e^709) below this exponent; beyond it a replica must
    // have been rebased (see the header). Configs bound their conductances by it.
    static constexpr double max_growth_exponent = 600.0;

    std::vector<StateVariable> state_variables() const override {
        return {{"U", "1", element_U}, {"Vbar", "1", element_Vbar}, {"Vstar", "1", element_Vstar}};
    }
    double read(node_index node, int element_id, time_ms t) override;

    void add_column(int receptor, std::uint32_t replica, time_ms t, const double* column, std::ptrdiff_t stride,
                    double gain) override;
    // Deferred (see "Deferred column adds" above) on the dendrite without a teacher or coupling.
    Growth add_matrix_column(int receptor, std::uint32_t replica, time_ms t, const double* column,
                             std::ptrdiff_t stride, double gain) override;
    void commit_inputs() override;
    void add_input(int receptor, std::uint32_t replica, node_index unit, time_ms t, double amount) override;
    void add_constant(int receptor, node_index unit, time_ms t, double amount) override;
    double input_time_constant(int) const override { return p_.synapse_tau_ms; }
    // dendrite: I_d(t) + b; nudge: I_n(t) + n_c.
    double receptor_input(int receptor, std::uint32_t replica, node_index unit, time_ms t) const override;

    // Teacher conductance g >= 0 toward targets y (one per unit) for one replica from t on.
    // Refused for a coupled population (its teacher is the coupling) and, with g > 0, for a
    // population others are coupled to (their target must stay a sum of tau and tau_s terms).
    void set_teacher(std::uint32_t replica, time_ms t, double g, const std::vector<double>& y);
    // The key of each replica's emission stream (default first_replica + replica). Replicas with
    // equal keys draw the same candidates and acceptance numbers: common random numbers, e.g. for
    // paired continuations that differ only in their teacher. Before initialize().
    void set_replica_keys(std::vector<std::uint32_t> keys);
    // Somatic-channel spikes of each unit of a replica since initialize() (units() values).
    const double* somatic_counts(std::uint32_t replica) const { return &somatic_count_[std::size_t{replica} * n_]; }
    // Soma coupling (see above): from initialize() on, every replica's teacher is the conductance
    // g > 0 toward U of the same unit and replica of `source`, which needs the same units,
    // replicas, tau_ms and synapse_tau_ms. Before the simulator starts. Invariant relied on:
    // `source` outlives this population (both belong to one Network).
    void couple_soma_to(TwoChannelUnitPopulation& source, double g);
    // Biases b (one per unit); before initialize(), or through add_constant() during a run.
    void set_bias(std::vector<double> b);
    const std::vector<double>& bias() const { return bias_; }

    // Potentials of one unit of one replica at t.
    struct Potentials {
        double U, Vbar, Vstar;
    };
    Potentials potentials(std::uint32_t replica, node_index unit, time_ms t) const;
    double acceptance(double U) const;
    const TwoChannelUnitParameters& parameters() const { return p_; }

private:
    struct Factors {
        double E, Es, Ea;  // e^(-D/tau), e^(-D/tau_s), e^(-a D/tau) at D = t - t0
    };
    Factors decay(std::uint32_t replica, time_ms t) const;
    // Inline fast path (every candidate and input calls it); the error is out of line.
    void check_rebased(std::uint32_t replica, time_ms t) const {
        const Replica& rep = rep_[replica];
        if ((t - rep.t0) * (1.0 + rep.g) > max_growth_exponent * p_.tau_ms) not_rebased(replica, t);
    }
    [[noreturn]] void not_rebased(std::uint32_t replica, time_ms t) const;
    // Inputs gain * values[j * stride] to units first .. first + count - 1 of one replica: the
    // coefficient updates of the header, shared by add_column and add_input.
    // Returns e^(D/tau_s), the factor of the input's tau_s part.
    double add_span(int receptor, std::uint32_t replica, time_ms t, const double* values, std::ptrdiff_t stride,
                    double gain, std::size_t first, std::size_t count);
    // Coupling: U's coefficients of units first .. first + count - 1 of one replica, relative to
    // this population's reference time t0 (only without a teacher), and the coupled side's update
    // when they changed at t (N continuous).
    void soma_coefficients(std::uint32_t replica, std::size_t unit, double& c0, double& cE, double& cEs) const;
    void follow_source(std::uint32_t replica, time_ms t, std::size_t first, std::size_t count);
    void notify_coupled(std::uint32_t replica, time_ms t, std::size_t first, std::size_t count);

    TwoChannelUnitParameters p_;
    std::size_t n_;
    std::uint32_t replicas_, first_replica_;
    double rmax_per_ms_, C_;  // C_ = tau_s / (tau_s - tau); 0 when they are equal (equal_taus_)
    bool equal_taus_ = false;
    // tau_s / tau when it is a whole number m <= 64 (the default 20 / 5): e^(-D/tau) is then
    // (e^(-D/tau_s))^m, a few products instead of a second exp; 0 otherwise.
    unsigned ratio_power_ = 0;
    double tau_factor(double synaptic_factor, double D_over_tau) const;
    // An input arriving at t of a replica: D = t - t0, fs = e^(D/tau_s), f = e^(D/tau).
    struct InputGrowth {
        double D, fs, f;
    };
    InputGrowth input_growth(std::uint32_t replica, time_ms t) const;
    // The tau part's step that keeps a potential continuous when scale * gain enters a tau_s part
    // at D: C scale gain e^(D/tau), or with tau_s = tau scale gain (D/tau) e^(D/tau).
    double tau_part_step(double scale, double gain, double D, double f) const;
    std::vector<double> bias_, kb_, nudge_constant_;
    // Per replica and unit (index replica * n + unit).
    std::vector<double> A_, Vp_, B_, Np_, Nf_, y_, somatic_count_;
    // The teacher target's tau and tau_s coefficients (non-zero only when coupled): y = y_ + yE_ E + yEs_ Es.
    std::vector<double> yE_, yEs_;
    TwoChannelUnitPopulation* soma_source_ = nullptr;
    double coupling_g_ = 0.0;
    std::vector<TwoChannelUnitPopulation*> coupled_;  // populations coupled to this one's U
    std::vector<std::uint32_t> replica_keys_;
    struct Replica {
        time_ms t0 = 0.0;
        double g = 0.0;  // teacher conductance now
        time_ms next = never;
        CounterRng rng{0, 0, 0, StreamKind::emission};
    };
    std::vector<Replica> rep_;
    // Deferred column adds (see the header), max_pending per replica.
    struct PendingColumn {
        const double* column;
        double xs, xf;  // A += column * xs, Vp -= column * xf
    };
    static constexpr std::uint32_t max_pending = 8;
    std::vector<PendingColumn> pending_;
    std::vector<std::uint32_t> pending_count_;
    void commit_replica(std::uint32_t replica);
    // A and Vp of one unit with its replica's pending columns (the values a commit would store).
    void dendritic_coefficients(std::uint32_t replica, std::size_t unit, double& A, double& Vp) const;
};

}  // namespace settle
