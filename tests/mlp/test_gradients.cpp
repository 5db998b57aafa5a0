#include <catch2/catch.hpp>

#include "helpers.hpp"
#include "networks/mlp/backprop.hpp"
#include "networks/mlp/feedback_alignment.hpp"
#include "networks/mlp/rmsprop.hpp"

using namespace mlp_test;

namespace {

double loss_of(const Mlp<double>& net, const Mat<double>& x, const std::vector<int>& y) {
    Activations<double> a;
    net.forward(x, a);
    return cross_entropy<double>(a.h.back(), y);
}

// Central differences of the loss with respect to every weight and bias.
Params<double> finite_differences(Mlp<double> net, const Mat<double>& x, const std::vector<int>& y, double h) {
    Params<double> fd = net.zeros_like();
    for (std::size_t k = 0; k < net.p.W.size(); ++k) {
        for (Eigen::Index i = 0; i < net.p.W[k].size(); ++i) {
            double& w = net.p.W[k].data()[i];
            const double w0 = w;
            w = w0 + h;
            const double up = loss_of(net, x, y);
            w = w0 - h;
            const double down = loss_of(net, x, y);
            w = w0;
            fd.W[k].data()[i] = (up - down) / (2 * h);
        }
        for (Eigen::Index i = 0; i < net.p.b[k].size(); ++i) {
            double& b = net.p.b[k](i);
            const double b0 = b;
            b = b0 + h;
            const double up = loss_of(net, x, y);
            b = b0 - h;
            const double down = loss_of(net, x, y);
            b = b0;
            fd.b[k](i) = (up - down) / (2 * h);
        }
    }
    return fd;
}

}  // namespace

TEST_CASE("Back-prop gradients equal finite differences (float64, relative 1e-6)", "[backprop]") {
    const auto sizes = GENERATE(std::vector<int>{5, 4, 3}, std::vector<int>{6, 7, 5, 6, 4}, std::vector<int>{3, 8, 2});
    Mlp<double> net = random_net<double>(sizes, 11, 1.5);
    const Mat<double> x = random_input<double>(sizes.front(), 7, 12);
    std::vector<int> y;
    for (int j = 0; j < 7; ++j) y.push_back(j % sizes.back());
    Params<double> g;
    Activations<double> a;
    Backprop<double>::gradient(net, x, y, g, a);
    const Params<double> fd = finite_differences(net, x, y, 1e-5);
    for (std::size_t k = 0; k < g.W.size(); ++k) {
        INFO("layer " << k + 1);
        REQUIRE((g.W[k] - fd.W[k]).norm() <= 1e-6 * fd.W[k].norm());
        REQUIRE((g.b[k] - fd.b[k]).norm() <= 1e-6 * fd.b[k].norm());
        for (Eigen::Index i = 0; i < g.W[k].size(); ++i)
            REQUIRE(std::abs(g.W[k].data()[i] - fd.W[k].data()[i]) <= 1e-6 * fd.W[k].cwiseAbs().maxCoeff());
    }
}

TEST_CASE("Straight-through back-prop through a sign layer treats sign' as 1", "[backprop]") {
    Mlp<double> net = random_net<double>({4, 5, 3}, 3, 1.0, {false, true});
    const Mat<double> x = random_input<double>(4, 6, 4);
    const std::vector<int> y = {0, 1, 2, 0, 1, 2};
    Params<double> g;
    Activations<double> a;
    Backprop<double>::gradient(net, x, y, g, a);
    Mat<double> dlogits;
    cross_entropy_grad<double>(a.h.back(), y, dlogits);
    REQUIRE(g.W[1].isApprox(dlogits * binarise<double>(a.h[1]).transpose()));
    const Mat<double> delta1 = (net.p.W[1].transpose() * dlogits).array() * (1 - a.h[1].array().square());
    REQUIRE(g.W[0].isApprox(delta1 * x.transpose()));
}

TEST_CASE("Feedback alignment uses B instead of W^T below the top layer", "[fa]") {
    Mlp<double> net = random_net<double>({5, 6, 6, 3}, 5);
    FeedbackAlignment<double> fa(net, 9);
    const Mat<double> x = random_input<double>(5, 8, 6);
    const std::vector<int> y = {0, 1, 2, 0, 1, 2, 0, 1};
    Params<double> g, g_bp;
    Activations<double> a;
    fa.compute(net, x, y, g);
    Backprop<double>::gradient(net, x, y, g_bp, a);
    REQUIRE(g.W[2].isApprox(g_bp.W[2]));  // top layer: the true gradient
    REQUIRE(angle_deg<double>(g.W[2], g_bp.W[2]) < 1e-3);
    Mat<double> dlogits;
    cross_entropy_grad<double>(a.h.back(), y, dlogits);
    const Mat<double> d2 = (fa.feedback()[2] * dlogits).array() * (1 - a.h[2].array().square());
    REQUIRE(g.W[1].isApprox(d2 * a.h[1].transpose()));
    // Setting B = W^T recovers back-prop.
    FeedbackAlignment<double> sym(net, 9);
    sym.feedback()[1] = net.p.W[1].transpose();
    sym.feedback()[2] = net.p.W[2].transpose();
    sym.compute(net, x, y, g);
    for (std::size_t k = 0; k < 3; ++k) REQUIRE(g.W[k].isApprox(g_bp.W[k]));
}

TEST_CASE("RMSprop follows Lee et al.'s update", "[rmsprop]") {
    RmsProp<double> opt(RmsPropConfig{0.1, 0.95, 0.9, 1e-3});
    Mat<double> theta = Mat<double>::Constant(1, 1, 1.0), g = Mat<double>::Constant(1, 1, 2.0);
    opt.step(theta, g, 0);
    double m = 0.05 * 2, v = 0.05 * 4, d = -0.1 * 2 / std::sqrt(v - m * m + 1e-3);
    REQUIRE(theta(0, 0) == Approx(1.0 + d).epsilon(1e-12));
    opt.step(theta, g, 0);
    m = 0.95 * m + 0.05 * 2, v = 0.95 * v + 0.05 * 4;
    const double d2 = 0.9 * d - 0.1 * 2 / std::sqrt(v - m * m + 1e-3);
    REQUIRE(theta(0, 0) == Approx(1.0 + d + d2).epsilon(1e-12));
}

TEST_CASE("Orthogonal initialisation gives orthonormal rows or columns", "[init]") {
    const Mat<double> w = orthogonal_matrix<double>(6, 10, 3, 1, 0);
    REQUIRE((w * w.transpose()).isApprox(Mat<double>::Identity(6, 6), 1e-10));
    const Mat<double> t = orthogonal_matrix<double>(10, 6, 3, 1, 0);
    REQUIRE((t.transpose() * t).isApprox(Mat<double>::Identity(6, 6), 1e-10));
}
