#pragma once
// Small statistics shared by the circuit's alignment measurements.
#include <cmath>
#include <vector>

#include <Eigen/Core>

namespace settle::circuit {

// Cosine of the angle between a and b; 0 when either is zero (no direction to compare).
inline double cosine(const Eigen::Ref<const Eigen::VectorXd>& a, const Eigen::Ref<const Eigen::VectorXd>& b) {
    const double na = a.norm(), nb = b.norm();
    return na > 0 && nb > 0 ? a.dot(b) / (na * nb) : 0.0;
}

// Mean and half-width of its normal-approximation 95 % confidence interval (1.96 standard errors).
inline void mean_ci(const std::vector<double>& v, double& mean, double& ci) {
    mean = 0.0;
    for (double q : v) mean += q;
    mean /= static_cast<double>(v.size());
    double var = 0.0;
    for (double q : v) var += (q - mean) * (q - mean);
    const double sd = v.size() > 1 ? std::sqrt(var / static_cast<double>(v.size() - 1)) : 0.0;
    ci = 1.96 * sd / std::sqrt(static_cast<double>(v.size()));
}

}  // namespace settle::circuit
