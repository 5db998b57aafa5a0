#pragma once
// One cell of Hinton's temporal-derivative table (rate_circuit.hpp, spiking_circuit.hpp,
// EventCircuit::temporal_derivative_test): a teacher strength and readout delay, and per hidden
// layer the mean cosine (with its 95 % confidence half-width) between the measured rate changes
// and back-prop's -dLoss/dr, the mean angle, and the shuffled-teacher control. No Eigen type here:
// the Python API includes this header.
#include <vector>

namespace settle::circuit {

struct DerivativeCell {
    double g = 0.0, delay_ms = 0.0;
    std::vector<double> cos_mean, cos_ci95, angle_deg_mean;  // per hidden layer
    std::vector<double> shuffled_cos_mean, shuffled_cos_ci95;
    std::vector<double> unpaired_cos_mean, unpaired_cos_ci95;  // spiking mode only (spiking_circuit.hpp)
};

}  // namespace settle::circuit
