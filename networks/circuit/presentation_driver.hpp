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

// The driver's state between calls: training can stop after any presentation and continue later
// (EventCircuit's continued training, the Python API's Circuit.train) with bitwise the events of
// one uninterrupted drive, because a call ends right after a presentation's end has been
// processed completely (next sample drawn, rates and teacher switched) and the next call only
// advances the simulator from there.
class PresentationDriver {
public:
    // `options.presentations` is the training run's length: the learning-rate annealing's horizon
    // (past it the rates stay at eta_final_fraction) and the presentation at which the buffered
    // replica updates are applied (Simulator::finish), as at the end of a run. The simulator
    // must not have started; `data` must outlive the driver.
    PresentationDriver(Simulator& sim, DriveTargets targets, const Dataset& data, DriveOptions options,
                       std::function<void(std::uint32_t, double)> on_teacher_onset = {});
    // Drives until `until` presentations have ended in total (starting the simulator on the first
    // call). checkpoint(done) returns false to stop. `stop` interrupts the kernel at once and
    // throws Interrupted (stop_flag.hpp; the state cannot be continued). Returns the
    // presentations ended so far.
    std::int64_t drive(std::int64_t until, RunObserver& observer, const std::atomic<bool>* stop,
                       const std::function<bool(std::int64_t)>& checkpoint);
    std::int64_t done() const { return done_; }
    // False once a checkpoint asked to stop: the schedule's state is then not continued.
    bool can_continue() const { return can_continue_; }

private:
    void anneal();
    // Replica s's presentation ended at t: its next sample, input rates, teacher off.
    void next_presentation(std::uint32_t s, double t);
    Simulator& sim_;
    DriveTargets targets_;
    const Dataset& data_;
    DriveOptions options_;
    std::function<void(std::uint32_t, double)> on_teacher_onset_;
    std::vector<PresentationSchedule> schedules_;
    std::vector<Presentation> current_;
    std::vector<bool> teacher_on_;
    std::int64_t done_ = 0;
    bool started_ = false, can_continue_ = true;
    bool pending_next_ = false;  // a call stopped at replica pending_replica_'s presentation end
    std::uint32_t pending_replica_ = 0;
};

// Runs the whole schedule on a simulator that has not started yet (it starts it at 0): a
// PresentationDriver driven to options.presentations, then Simulator::finish. checkpoint(done)
// returns false to stop; on_teacher_onset(replica, t) sees every onset. Returns the number of
// presentations that ended. Throws Interrupted (stop_flag.hpp) when `stop` is raised.
std::int64_t drive_presentations(Simulator& sim, const DriveTargets& targets, const Dataset& data,
                                 const DriveOptions& options, RunObserver& observer, const std::atomic<bool>* stop,
                                 const std::function<bool(std::int64_t)>& checkpoint,
                                 const std::function<void(std::uint32_t, double)>& on_teacher_onset = {});

}  // namespace settle::circuit
