#pragma once
// A plain network ([[population]], [[projection]]) driven through a task's samples by the
// circuit's presentation driver (presentation_driver.hpp): the `[drive]` table of a network
// config (docs/config.md, "Driving a network with a task"). With it, a learning circuit written
// out longhand runs the same events as its compact [circuit] form.
//
//   [drive]
//   input = "input"            a pooled_poisson_source: its rates are the sample's inputs
//   teacher = "layer2"         a two_channel_unit: conductance g_teacher toward the sample's targets
//   g_teacher = 1.0            from each presentation's teacher onset to its end
//   anneal = ["W1", "W2"]      lag_compensated projections annealed by eta_final_fraction
//   presentations = 1000       over all replicas
//   eta_final_fraction = 1.0
//   [task] and [schedule]: the circuit's keys (docs/config.md, "Circuit").
// Eigen-free: the dataset lives behind the pointer.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>

#include "networks/config_reader.hpp"
#include "sim/simulator.hpp"

namespace settle::circuit {

class NetworkDrive {
public:
    // Reads [drive], [task] and [schedule] from root, checks them against `net` and loads the
    // task's data (seeded by `seed`); every error names its key.
    NetworkDrive(ConfigTable& root, Network& net, std::uint64_t seed);
    ~NetworkDrive();
    NetworkDrive(NetworkDrive&&) noexcept;

    std::int64_t presentations() const;
    // When the last presentation ends: the run's simulated duration.
    double end_ms() const;
    // Runs the presentations on `sim` (not started yet). progress(done) after every presentation
    // block; returns the presentations that ended. Throws Interrupted (stop_flag.hpp) on `stop`.
    std::int64_t run(Simulator& sim, RunObserver& observer, const std::atomic<bool>* stop,
                     const std::function<void(std::int64_t)>& progress) const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace settle::circuit
