#pragma once
// Adaptive Gauss-Kronrod (7/15) quadrature of a vector of N integrands that share one expensive
// evaluation (the plasticity rules integrate one postsynaptic factor against several exponential
// kernels at once). The interval is bisected until the Kronrod-Gauss difference of every
// component is below rel_tol times the largest component magnitude (plus abs_tol).
#include <array>
#include <cmath>
#include <cstddef>

namespace settle::quadrature {

// QUADPACK's G7-K15 nodes and weights (Piessens et al. 1983).
inline constexpr std::array<double, 8> kronrod_nodes = {
    0.991455371120812639206854697526329, 0.949107912342758524526189684047851, 0.864864423359769072789712788640926,
    0.741531185599394439863864773280788, 0.586087235467691130294144845693013, 0.405845151377397166906606412076961,
    0.207784955007898467600689403773245, 0.0};
inline constexpr std::array<double, 8> kronrod_weights = {
    0.022935322010529224963732008058970, 0.063092092629978553290700663189204, 0.104790010322250183839876322541518,
    0.140653259715525918745189590510238, 0.169004726639267902826583426598550, 0.190350578064785409913256402421014,
    0.204432940075298892414161999234649, 0.209482141084727828012999174891714};
// Weights of the 7-point Gauss rule on kronrod_nodes[1], [3], [5], [7].
inline constexpr std::array<double, 4> gauss_weights = {0.129484966168869693270611432679082, 0.279705391489276667901467771423780,
                                                        0.381830050505118944950369775488975, 0.417959183673469387755102040816327};

struct Stats {
    std::size_t evaluations = 0;
    std::size_t intervals = 0;
    std::size_t short_rule = 0;  // intervals settled by one G3-K7 step (see gk7_batch)
};

// Gauss-Kronrod 3/7 (Kronrod 1965; exact for polynomials of degree 11, its Gauss part of degree
// 5): nodes in [0, 1] and weights, centre last.
inline constexpr std::array<double, 4> kronrod7_nodes = {0.960491268708020283423507092629080, 0.774596669241483377035853079956480,
                                                         0.434243749346802558002071502844628, 0.0};
inline constexpr std::array<double, 4> kronrod7_weights = {0.104656226026467265193823857192073, 0.268488089868333440728569280666710,
                                                           0.401397414775962222905051818618432, 0.450916538658474142345110087045571};
inline constexpr double gauss3_weight_node = 5.0 / 9.0, gauss3_weight_centre = 8.0 / 9.0;

// One G3-K7 step over [a, b] with the integrands evaluated in one batch: fb(c, d, out) fills
// out[0] at c and out[2k+1], out[2k+2] at c - d[k], c + d[k] (k = 0, 1, 2), so an integrand that is
// a product of exponentials can share exp(c) across the nodes. Returns true, adding the K7 value
// to result, when |K7 - G3| <= rel_tol * max|K7| + abs_tol (the G3 error bounds K7's by far for
// smooth integrands); else leaves result alone. Cheap enough to try before the adaptive GK15.
template <std::size_t N, class FB>
bool gk7_batch(FB& fb, double a, double b, std::array<double, N>& result, double rel_tol, double abs_tol, Stats* stats) {
    const double c = 0.5 * (a + b), h = 0.5 * (b - a);
    const std::array<double, 3> d = {h * kronrod7_nodes[0], h * kronrod7_nodes[1], h * kronrod7_nodes[2]};
    std::array<std::array<double, N>, 7> v{};  // components fb leaves alone count as 0
    fb(c, d, v);
    if (stats) stats->evaluations += 7;
    double scale = 0.0, err = 0.0;
    std::array<double, N> k;
    for (std::size_t j = 0; j < N; ++j) {
        const double s0 = v[1][j] + v[2][j], s1 = v[3][j] + v[4][j], s2 = v[5][j] + v[6][j];
        k[j] = h * (kronrod7_weights[3] * v[0][j] + kronrod7_weights[0] * s0 + kronrod7_weights[1] * s1 + kronrod7_weights[2] * s2);
        const double g = h * (gauss3_weight_centre * v[0][j] + gauss3_weight_node * s1);
        scale = std::max(scale, std::abs(k[j]));
        err = std::max(err, std::abs(k[j] - g));
    }
    if (!(err <= rel_tol * scale + abs_tol)) return false;
    for (std::size_t j = 0; j < N; ++j) result[j] += k[j];
    if (stats) {
        ++stats->intervals;
        ++stats->short_rule;
    }
    return true;
}

// f(s, out) fills out[0..N) with the integrands at s.
template <std::size_t N, class F>
void gk15_once(F& f, double a, double b, std::array<double, N>& kronrod, std::array<double, N>& gauss) {
    const double c = 0.5 * (a + b), h = 0.5 * (b - a);
    std::array<double, N> v{}, w{};
    f(c, v);
    for (std::size_t j = 0; j < N; ++j) {
        kronrod[j] = kronrod_weights[7] * v[j];
        gauss[j] = gauss_weights[3] * v[j];
    }
    for (std::size_t i = 0; i < 7; ++i) {
        const double x = h * kronrod_nodes[i];
        f(c - x, v);
        f(c + x, w);
        for (std::size_t j = 0; j < N; ++j) {
            const double s = v[j] + w[j];
            kronrod[j] += kronrod_weights[i] * s;
            if (i % 2 == 1) gauss[j] += gauss_weights[i / 2] * s;
        }
    }
    for (std::size_t j = 0; j < N; ++j) {
        kronrod[j] *= h;
        gauss[j] *= h;
    }
}

template <std::size_t N, class F>
void integrate_adaptive(F& f, double a, double b, std::array<double, N>& result, double rel_tol, double abs_tol,
                        int depth, Stats* stats) {
    std::array<double, N> k, g;
    gk15_once<N>(f, a, b, k, g);
    if (stats) {
        stats->evaluations += 15;
        ++stats->intervals;
    }
    double scale = 0.0, err = 0.0;
    for (std::size_t j = 0; j < N; ++j) {
        scale = std::max(scale, std::abs(k[j]));
        err = std::max(err, std::abs(k[j] - g[j]));
    }
    // |K15 - G7| overestimates the Kronrod error by orders of magnitude for smooth integrands.
    if (err <= rel_tol * scale + abs_tol || depth <= 0) {
        for (std::size_t j = 0; j < N; ++j) result[j] += k[j];
        return;
    }
    const double m = 0.5 * (a + b);
    integrate_adaptive<N>(f, a, m, result, rel_tol, abs_tol, depth - 1, stats);
    integrate_adaptive<N>(f, m, b, result, rel_tol, abs_tol, depth - 1, stats);
}

// G7-K15 with the 15 nodes evaluated in one batch, in increasing order: fb(times, out) with
// times[i] ascending and out[i] the integrands there (for integrands that are cheaper to evaluate
// along a sweep, e.g. a state evolved from node to node).
template <std::size_t N, class FB>
void gk15_sorted_once(FB& fb, double a, double b, std::array<double, N>& kronrod, std::array<double, N>& gauss) {
    const double c = 0.5 * (a + b), h = 0.5 * (b - a);
    std::array<double, 15> times;
    for (std::size_t i = 0; i < 7; ++i) {
        times[i] = c - h * kronrod_nodes[i];
        times[14 - i] = c + h * kronrod_nodes[i];
    }
    times[7] = c;
    std::array<std::array<double, N>, 15> v;
    fb(times, v);
    for (std::size_t j = 0; j < N; ++j) {
        kronrod[j] = kronrod_weights[7] * v[7][j];
        gauss[j] = gauss_weights[3] * v[7][j];
        for (std::size_t i = 0; i < 7; ++i) {
            const double s = v[i][j] + v[14 - i][j];
            kronrod[j] += kronrod_weights[i] * s;
            if (i % 2 == 1) gauss[j] += gauss_weights[i / 2] * s;
        }
        kronrod[j] *= h;
        gauss[j] *= h;
    }
}

template <std::size_t N, class FB>
void integrate_sorted_adaptive(FB& fb, double a, double b, std::array<double, N>& result, double rel_tol, double abs_tol,
                               int depth, Stats* stats) {
    std::array<double, N> k, g;
    gk15_sorted_once<N>(fb, a, b, k, g);
    if (stats) {
        stats->evaluations += 15;
        ++stats->intervals;
    }
    double scale = 0.0, err = 0.0;
    for (std::size_t j = 0; j < N; ++j) {
        scale = std::max(scale, std::abs(k[j]));
        err = std::max(err, std::abs(k[j] - g[j]));
    }
    if (err <= rel_tol * scale + abs_tol || depth <= 0) {
        for (std::size_t j = 0; j < N; ++j) result[j] += k[j];
        return;
    }
    const double m = 0.5 * (a + b);
    integrate_sorted_adaptive<N>(fb, a, m, result, rel_tol, abs_tol, depth - 1, stats);
    integrate_sorted_adaptive<N>(fb, m, b, result, rel_tol, abs_tol, depth - 1, stats);
}

// As integrate(), with batch evaluation at ascending nodes (see gk15_sorted_once).
template <std::size_t N, class FB>
std::array<double, N> integrate_sorted(FB&& fb, double a, double b, double rel_tol, double abs_tol, Stats* stats = nullptr,
                                       int max_depth = 40) {
    std::array<double, N> result{};
    if (!(b > a)) return result;
    integrate_sorted_adaptive<N>(fb, a, b, result, rel_tol, abs_tol, max_depth, stats);
    return result;
}

// Integral over [a, b] of the N integrands f fills in.
template <std::size_t N, class F>
std::array<double, N> integrate(F&& f, double a, double b, double rel_tol, double abs_tol, Stats* stats = nullptr,
                                int max_depth = 40) {
    std::array<double, N> result{};
    if (!(b > a)) return result;
    integrate_adaptive<N>(f, a, b, result, rel_tol, abs_tol, max_depth, stats);
    return result;
}

}  // namespace settle::quadrature
