#pragma once
// Drives any network on the event-driven kernel through the clock-free presentation schedule
// (presentation_schedule.hpp): the one driver of the spiking circuit (EventCircuit::train) and of
// a plain network written out longhand with a [drive] table (docs/config.md, "Driving a network
// with a task"), so that the two run bitwise the same events.
//
// Replica s of the network follows its own PresentationSchedule. At each schedule event of
// replica s (the earliest over replicas; ties: the lower replica first) the kernel is advanced to
// that time (run continuation), replica s is rebased (a schedule-fixed time: results do not
// depend on recording), and the driver
//   - at the teacher onset: sets the teacher population's conductance g_teacher toward the
//     sample's targets;
//   - at the end: counts the presentation, calls the checkpoint every `checkpoint_every`
//     presentations and at the last one, anneals the learning rates of the named rules by
//     eta_final_fraction^(done / presentations), draws the next sample, sets its rates on the
//     input population and switches the teacher off.
// It never touches a membrane or a weight: the populations and rules do.
#include <atomic>
#include <cstdint>
#include <functional>
#include <vector>

#include "networks/circuit/circuit_config.hpp"
#include "networks/circuit/presentation_schedule.hpp"
#include "networks/circuit/tasks.hpp"
#include "neurons/pooled_poisson_source.hpp"
#include "neurons/two_channel_unit.hpp"
#include "plasticity/lag_compensated_rule.hpp"
#include "sim/simulator.hpp"

namespace settle::circuit {

struct DriveTargets {
    std::size_t input_population = 0;  // the index of `input` in the network (for reschedule)
    PooledPoissonSource* input = nullptr;
    TwoChannelUnitPopulation* teacher = nullptr;
    double g_teacher = 1.0;
    std::vector<LagCompensatedRule*> annealed;
};

struct DriveOptions {
    ScheduleConfig schedule;
    std::int64_t presentations = 0;  // over all replicas
    std::int64_t checkpoint_every = 0;  // 0: only at the end
    double eta_final_fraction = 1.0;
    std::uint64_t seed = 1;
};

// The schedules of every replica (keyed by seed and replica), as the driver draws them.
std::vector<PresentationSchedule> presentation_schedules(const ScheduleConfig& schedule, std::size_t n_samples,
                                                         std::uint64_t seed, std::uint32_t replicas);

// When the k-th presentation over all replicas ends, in the driver's order of events (0 for
// k <= 0): the schedules are a property of the seed alone, so this is known before the run.
double presentation_end_ms(const ScheduleConfig& schedule, std::size_t n_samples, std::uint64_t seed,
                           std::uint32_t replicas, std::int64_t k);

// Runs the schedule on a simulator that has not started yet (it starts it at 0). checkpoint(done)
// returns false to stop; on_teacher_onset(replica, t) sees every onset. Returns the number of
// presentations that ended. Throws Interrupted (stop_flag.hpp) when `stop` is raised.
std::int64_t drive_presentations(Simulator& sim, const DriveTargets& targets, const Dataset& data,
                                 const DriveOptions& options, RunObserver& observer, const std::atomic<bool>* stop,
                                 const std::function<bool(std::int64_t)>& checkpoint,
                                 const std::function<void(std::uint32_t, double)>& on_teacher_onset = {});

}  // namespace settle::circuit
