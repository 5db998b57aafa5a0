#pragma once
// The clock-free input schedule (docs/science.md, "The clock-free schedule"): samples are presented
// back to back for random durations, and the teacher comes on at a random delay within each
// presentation and stays on until it ends. This is a property of the input stream only: no neuron,
// synapse or rule is told when a presentation starts or when the teacher comes on.
//
// Each stream has its own generator keyed by (seed, "circuit.schedule.<name>", stream), so streams
// are independent and a run is reproducible for a given seed.
#include <cstddef>
#include <cstdint>
#include <string>

#include "networks/circuit/circuit_config.hpp"
#include "sim/random.hpp"

namespace settle::circuit {

struct Presentation {
    std::size_t sample = 0;   // index into the training set (drawn uniformly, with replacement)
    double start_ms = 0.0;    // presentation start
    double teacher_ms = 0.0;  // teacher onset, start + U(onset_min, onset_max)
    double end_ms = 0.0;      // start + U(duration_min, duration_max)
};

class PresentationSchedule {
public:
    PresentationSchedule(const ScheduleConfig& config, std::size_t n_samples, std::uint64_t seed, std::uint32_t stream,
                         const std::string& name = "train");
    // The presentation after the previous one (the first starts at t = 0).
    Presentation next();

private:
    ScheduleConfig config_;
    std::size_t n_samples_;
    CounterRng rng_;
    double t_ = 0.0;
};

}  // namespace settle::circuit
