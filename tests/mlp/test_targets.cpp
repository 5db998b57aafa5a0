#include <catch2/catch.hpp>

#include <cmath>

#include <Eigen/LU>

#include "helpers.hpp"
#include "networks/mlp/backprop.hpp"
#include "networks/mlp/difference_target_prop.hpp"
#include "networks/mlp/target_prop.hpp"

using namespace mlp_test;

namespace {

using V = std::vector<double>;
using M = std::vector<V>;

V matvec(const M& a, const V& x, const V& b) {
    V out(a.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
        out[i] = b[i];
        for (std::size_t j = 0; j < x.size(); ++j) out[i] += a[i][j] * x[j];
    }
    return out;
}
V tanh_v(V v) {
    for (auto& e : v) e = std::tanh(e);
    return v;
}
Mat<double> to_mat(const M& a) {
    Mat<double> m(static_cast<Eigen::Index>(a.size()), static_cast<Eigen::Index>(a[0].size()));
    for (std::size_t i = 0; i < a.size(); ++i)
        for (std::size_t j = 0; j < a[0].size(); ++j) m(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) = a[i][j];
    return m;
}
Vec<double> to_vec(const V& v) { return Eigen::Map<const Vec<double>>(v.data(), static_cast<Eigen::Index>(v.size())); }

// A hand-built 2-3-2-2-2 network: three hidden layers, inverses for weight layers 1 and 2.
struct Tiny {
    M W0 = {{0.5, -0.3}, {0.2, 0.8}, {-0.6, 0.1}}, W1 = {{0.4, -0.7, 0.3}, {0.9, 0.2, -0.5}},
      W2 = {{-0.8, 0.6}, {0.3, 0.7}}, W3 = {{1.2, -0.4}, {-0.9, 0.5}};
    V b0 = {0.1, -0.2, 0.05}, b1 = {0.0, 0.3}, b2 = {-0.1, 0.2}, b3 = {0.05, -0.05};
    M V1 = {{0.3, -0.2}, {0.5, 0.4}, {-0.1, 0.6}}, V2 = {{0.7, -0.3}, {0.2, 0.9}};
    V c1 = {0.1, 0.0, -0.2}, c2 = {-0.05, 0.15};
    V x = {0.9, -0.4};
    int label = 1;
    double eta = 0.7;

    Mlp<double> net() const {
        Mlp<double> n(NetworkShape{{2, 3, 2, 2, 2}, {}});
        n.p.W = {to_mat(W0), to_mat(W1), to_mat(W2), to_mat(W3)};
        n.p.b = {to_vec(b0), to_vec(b1), to_vec(b2), to_vec(b3)};
        return n;
    }
    void set_inverses(Inverses<double>& inv) const {
        inv.V[1] = to_mat(V1), inv.c[1] = to_vec(c1), inv.V[2] = to_mat(V2), inv.c[2] = to_vec(c2);
    }
};

TargetPropConfig tp_config(double eta) {
    TargetPropConfig c;
    c.target_step = eta;
    return c;
}

}  // namespace

TEST_CASE("DTP and TP targets equal the formulas on a hand-built network", "[dtp][tp]") {
    const Tiny t;
    // By hand, one example.
    const V h1 = tanh_v(matvec(t.W0, t.x, t.b0)), h2 = tanh_v(matvec(t.W1, h1, t.b1)), h3 = tanh_v(matvec(t.W2, h2, t.b2));
    const V z = matvec(t.W3, h3, t.b3);
    const double e0 = std::exp(z[0]), e1 = std::exp(z[1]);
    const V p = {e0 / (e0 + e1), e1 / (e0 + e1)};
    const V dz = {p[0] - (t.label == 0), p[1] - (t.label == 1)};
    V t3(2);
    for (int i = 0; i < 2; ++i) t3[i] = h3[i] - t.eta * (t.W3[0][i] * dz[0] + t.W3[1][i] * dz[1]);
    const auto g1 = [&](const V& h) { return tanh_v(matvec(t.V1, h, t.c1)); };
    const auto g2 = [&](const V& h) { return tanh_v(matvec(t.V2, h, t.c2)); };
    V t2(2), t1(3);
    for (int i = 0; i < 2; ++i) t2[i] = h2[i] - g2(h3)[i] + g2(t3)[i];
    for (int i = 0; i < 3; ++i) t1[i] = h1[i] - g1(h2)[i] + g1(t2)[i];

    const Mlp<double> net = t.net();
    const Mat<double> x = to_vec(t.x);
    Params<double> g;

    DifferenceTargetProp<double> dtp(net, tp_config(t.eta), 1);
    t.set_inverses(dtp.inverses());
    dtp.compute(net, x, {t.label}, g);
    REQUIRE(dtp.targets()[3].isApprox(to_vec(t3), 1e-12));
    REQUIRE(dtp.targets()[2].isApprox(to_vec(t2), 1e-12));
    REQUIRE(dtp.targets()[1].isApprox(to_vec(t1), 1e-12));
    // Layer-local MSE gradient of weight layer 1 (h1 -> h2), and the top layer's true gradient.
    for (int i = 0; i < 2; ++i)
        for (int j = 0; j < 3; ++j)
            REQUIRE(g.W[1](i, j) == Approx(2 * (h2[static_cast<std::size_t>(i)] - t2[static_cast<std::size_t>(i)]) *
                                           (1 - h2[static_cast<std::size_t>(i)] * h2[static_cast<std::size_t>(i)]) *
                                           h1[static_cast<std::size_t>(j)]).epsilon(1e-10));
    for (int i = 0; i < 2; ++i) REQUIRE(g.W[3](i, 0) == Approx(dz[static_cast<std::size_t>(i)] * h3[0]).epsilon(1e-12));

    TargetProp<double> tp(net, tp_config(t.eta), 1);
    t.set_inverses(tp.inverses());
    tp.compute(net, x, {t.label}, g);
    REQUIRE(tp.targets()[3].isApprox(to_vec(t3), 1e-12));
    REQUIRE(tp.targets()[2].isApprox(to_vec(g2(t3)), 1e-12));
    REQUIRE(tp.targets()[1].isApprox(to_vec(g1(g2(t3))), 1e-12));
}

TEST_CASE("The top target step is eta_hat times the gradient of the batch-mean loss", "[dtp]") {
    const Tiny t;
    const Mlp<double> net = t.net();
    Mat<double> x(2, 2);
    x << 0.9, 0.9, -0.4, -0.4;  // the same example twice: the per-example step halves
    DifferenceTargetProp<double> one(net, tp_config(t.eta), 1), two(net, tp_config(t.eta), 1);
    Params<double> g;
    one.compute(net, x.col(0), {t.label}, g);
    two.compute(net, x, {t.label, t.label}, g);
    Activations<double> a;
    net.forward(x.col(0), a);
    const Vec<double> step1 = a.h[3].col(0) - one.targets()[3].col(0);
    const Vec<double> step2 = a.h[3].col(0) - two.targets()[3].col(0);
    // The one-example step is eta_hat W3^T (softmax(z) - onehot), by hand: without this, a zero
    // step would pass the halving check below.
    const V h1 = tanh_v(matvec(t.W0, t.x, t.b0)), h2 = tanh_v(matvec(t.W1, h1, t.b1)), h3 = tanh_v(matvec(t.W2, h2, t.b2));
    const V z = matvec(t.W3, h3, t.b3);
    const double e0 = std::exp(z[0]), e1 = std::exp(z[1]);
    const V dz = {e0 / (e0 + e1) - (t.label == 0), e1 / (e0 + e1) - (t.label == 1)};
    Vec<double> expected(2);
    for (int i = 0; i < 2; ++i) expected(i) = t.eta * (t.W3[0][static_cast<std::size_t>(i)] * dz[0] + t.W3[1][static_cast<std::size_t>(i)] * dz[1]);
    REQUIRE(expected.norm() > 0.1);
    REQUIRE(step1.isApprox(expected, 1e-12));
    REQUIRE(step2.isApprox(step1 / 2, 1e-12));
}

TEST_CASE("With an exact inverse, DTP's lower target is the true preimage", "[dtp]") {
    // 3-4-4-4-3: weight layers 1 and 2 are square and invertible, g_k = f_k^{-1} exactly.
    Mlp<double> net = random_net<double>({3, 4, 4, 4, 3}, 21, 0.8);
    const Mat<double> x = random_input<double>(3, 5, 22);
    const std::vector<int> y = {0, 1, 2, 1, 0};
    Activations<double> a;
    net.forward(x, a);
    const InverseFn<double> exact = [&](int k, const Mat<double>& h, Mat<double>& out) {
        const auto kk = static_cast<std::size_t>(k);
        const Mat<double> pre = h.array().atanh().matrix().colwise() - net.p.b[kk];
        out = net.p.W[kk].fullPivLu().solve(pre);
    };
    std::vector<Mat<double>> t(4);
    Mat<double> dlogits;
    top_target<double>(net, a, y, 0.5, t[3], dlogits);
    REQUIRE(t[3].cwiseAbs().maxCoeff() < 1.0);
    propagate_targets<double>(a, exact, true, t);
    for (int k = 1; k <= 2; ++k) {
        Mat<double> image;
        net.layer_output(k, t[static_cast<std::size_t>(k)], image);
        INFO("layer " << k);
        REQUIRE((image - t[static_cast<std::size_t>(k) + 1]).cwiseAbs().maxCoeff() < 1e-9);
        REQUIRE((t[static_cast<std::size_t>(k)] - a.h[static_cast<std::size_t>(k)]).norm() > 1e-3);  // it moved
    }
}

TEST_CASE("DTP targets equal the activity when the top target does, TP's do not", "[dtp][tp]") {
    const Mlp<double> net = random_net<double>({4, 6, 5, 5, 3}, 31);
    const Mat<double> x = random_input<double>(4, 6, 32);
    Activations<double> a;
    net.forward(x, a);
    Inverses<double> inv(net, InverseConfig{}, 33);  // an untrained, poor inverse
    std::vector<Mat<double>> t(4);
    t[3] = a.h[3];
    propagate_targets<double>(a, inv.as_function(), true, t);
    REQUIRE(t[2].isApprox(a.h[2], 1e-14));
    REQUIRE(t[1].isApprox(a.h[1], 1e-14));
    propagate_targets<double>(a, inv.as_function(), false, t);
    REQUIRE((t[1] - a.h[1]).norm() > 0.1);
}

TEST_CASE("DTP's updates of the two top layers point along back-prop's gradient", "[dtp][angle]") {
    const Mlp<double> net = random_net<double>({6, 8, 8, 8, 3}, 41);
    const Mat<double> x = random_input<double>(6, 10, 42);
    const std::vector<int> y = {0, 1, 2, 0, 1, 2, 0, 1, 2, 0};
    DifferenceTargetProp<double> dtp(net, tp_config(0.3), 43);
    Params<double> g, g_bp;
    Activations<double> a;
    dtp.compute(net, x, y, g);
    Backprop<double>::gradient(net, x, y, g_bp, a);
    REQUIRE(angle_deg<double>(g.W[3], g_bp.W[3]) < 1e-4);
    // The local loss mean_batch |h - t|^2 with t = h - eta dLoss/dh gives (2 eta / B) dLoss/dW
    // for the last hidden layer (Loss is itself a batch mean).
    REQUIRE(g.W[2].isApprox(2 * 0.3 / 10 * g_bp.W[2], 1e-10));
    REQUIRE(angle_deg<double>(g.W[2], g_bp.W[2]) < 1e-4);
    REQUIRE(angle_deg<double>(g.W[0], g_bp.W[0]) > 1.0);
}

TEST_CASE("Inverse training lowers the reconstruction error", "[dtp][inverse]") {
    const Mlp<double> net = random_net<double>({8, 12, 12, 12, 3}, 51);
    const Mat<double> data = random_input<double>(8, 100, 52);
    InverseConfig c;
    c.optimizer.learning_rate = 0.003;
    c.noise_std = 0.3;
    Inverses<double> inv(net, c, 53);
    Activations<double> a;
    net.forward(data, a);
    const double before = inv.reconstruction_error(net, a, 0.3, 12345);
    const BatchFn<double> batch = [&](std::size_t i, Mat<double>& x, std::vector<int>& y) {
        x = data.middleCols(static_cast<Eigen::Index>(i) * 20, 20);
        y.assign(20, 0);
    };
    double first = 0, last = 0;
    for (int epoch = 1; epoch <= 60; ++epoch) {
        const double e = inv.train_epoch(net, epoch, 5, batch);
        if (epoch == 1) first = e;
        last = e;
    }
    const double after = inv.reconstruction_error(net, a, 0.3, 12345);
    INFO("before " << before << " after " << after << " first epoch " << first << " last epoch " << last);
    REQUIRE(after < 0.5 * before);
    REQUIRE(last < first);
}

TEST_CASE("Inverse noise sigma decays as sigma / (1 + epoch / decay)", "[inverse]") {
    const Mlp<double> net = random_net<double>({4, 5, 5, 2}, 1);
    InverseConfig c;
    c.noise_std = 0.5;
    c.noise_decay_epochs = 50;
    Inverses<double> inv(net, c, 2);
    REQUIRE(inv.noise_std(50) == Approx(0.25));
    c.noise_decay_epochs = 0;
    REQUIRE(Inverses<double>(net, c, 2).noise_std(50) == Approx(0.5));
}
