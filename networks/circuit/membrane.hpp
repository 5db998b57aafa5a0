#pragma once
// The exact membrane updates shared by the rate and spiking circuits (docs/science.md, section 4):
// over a step of h ms with inputs held, tau dU/dt = -a (U - D) has
// U(h) = D + (U - D) exp(-a h / tau).
#include <cmath>

#include <Eigen/Core>

namespace settle::circuit {

// U <- U + c (D - U), c = 1 - exp(-h / tau). U and Vbar always go through this one function, so
// with equal inputs they stay bitwise equal (the twin nudge is then exactly zero).
inline void relax(Eigen::MatrixXd& U, const Eigen::MatrixXd& D, double c) { U.array() += c * (D.array() - U.array()); }

// Output somas with the teacher conductance g gate_j toward y: tau dU/dt = -(1 + g m) U + V* + g m y,
// per column j over h ms; without the teacher the same arithmetic as relax().
inline void relax_output(Eigen::MatrixXd& U, const Eigen::MatrixXd& Vstar, const Eigen::MatrixXd& y,
                         const Eigen::RowVectorXd& gate, double g, double h, double tau) {
    const double c0 = -std::expm1(-h / tau);
    for (Eigen::Index j = 0; j < U.cols(); ++j) {
        const double gm = g * gate(j);
        if (gm == 0.0) {
            U.col(j).array() += c0 * (Vstar.col(j).array() - U.col(j).array());
        } else {
            const double a = 1.0 + gm;
            const double c = -std::expm1(-h * a / tau);
            U.col(j).array() += c * ((Vstar.col(j).array() + gm * y.col(j).array()) / a - U.col(j).array());
        }
    }
}

}  // namespace settle::circuit
