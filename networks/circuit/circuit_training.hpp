#pragma once
// The clock-free training loop shared by the rate and spiking circuits: every stream
// presents training samples back to back on its own PresentationSchedule (random durations,
// teacher onset at a random delay); the circuit only sees inputs, targets and the teacher gate.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <vector>

#include <Eigen/Core>

#include "networks/circuit/presentation_schedule.hpp"
#include "networks/circuit/tasks.hpp"

namespace settle::circuit {

// Trains until `presentations` presentations have ended in total over config().streams streams.
// `checkpoint(done)` is called every presentations / checkpoints presentations and at the end;
// returning false stops training. The feedforward learning rates are annealed by
// eta_final_fraction^(done / presentations) (1 unless configured). Circuit: RateCircuit or SpikingCircuit. Returns the final state
// (one column per stream).
template <class Circuit>
typename Circuit::State train(Circuit& c, const Dataset& data, std::int64_t presentations, std::uint64_t seed,
           const std::function<bool(std::int64_t)>& checkpoint) {
    const CircuitConfig& cfg = c.config();
    const int S = cfg.streams;
    const auto n_samples = static_cast<std::size_t>(data.x_train.cols());
    std::vector<PresentationSchedule> schedules;
    std::vector<Presentation> current;
    Eigen::MatrixXd x(data.x_train.rows(), S), y(data.y_train.rows(), S);
    Eigen::RowVectorXd gate = Eigen::RowVectorXd::Zero(S);
    for (int s = 0; s < S; ++s) {
        schedules.emplace_back(cfg.schedule, n_samples, seed, static_cast<std::uint32_t>(s));
        current.push_back(schedules.back().next());
        x.col(s) = data.x_train.col(static_cast<Eigen::Index>(current.back().sample));
        y.col(s) = data.y_train.col(static_cast<Eigen::Index>(current.back().sample));
    }
    const std::int64_t every = std::max<std::int64_t>(1, presentations / std::max(1, cfg.checkpoints));
    typename Circuit::State state = c.rest(S);
    std::int64_t done = 0;
    const double dt = cfg.dt_ms;
    const double log_final = std::log(cfg.eta_final_fraction);
    auto anneal = [&] {
        if (presentations > 0)
            c.set_eta_scale(std::exp(log_final * static_cast<double>(done) / static_cast<double>(presentations)));
    };
    anneal();
    for (std::int64_t n = 0; done < presentations; ++n) {
        const double t = static_cast<double>(n) * dt;  // no accumulated rounding
        for (int s = 0; s < S; ++s) {
            Presentation& p = current[static_cast<std::size_t>(s)];
            while (t >= p.end_ms) {
                ++done;
                if (done % every == 0 || done == presentations)
                    if (!checkpoint(done)) return state;
                if (done >= presentations) return state;
                anneal();
                p = schedules[static_cast<std::size_t>(s)].next();
                x.col(s) = data.x_train.col(static_cast<Eigen::Index>(p.sample));
                y.col(s) = data.y_train.col(static_cast<Eigen::Index>(p.sample));
            }
            gate(s) = t >= p.teacher_ms ? 1.0 : 0.0;
        }
        c.step(state, x, y, gate, dt, true);
    }
    if (presentations == 0) checkpoint(0);
    return state;
}


}  // namespace settle::circuit
