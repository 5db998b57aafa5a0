#include "networks/circuit/presentation_driver.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "networks/circuit/stop_flag.hpp"

namespace settle::circuit {

namespace {

std::vector<double> column(const Eigen::MatrixXd& m, std::size_t j) {
    const auto c = static_cast<Eigen::Index>(j);
    return std::vector<double>(m.col(c).data(), m.col(c).data() + m.rows());
}

}  // namespace

std::vector<PresentationSchedule> presentation_schedules(const ScheduleConfig& schedule, std::size_t n_samples,
                                                         std::uint64_t seed, std::uint32_t replicas) {
    std::vector<PresentationSchedule> schedules;
    for (std::uint32_t s = 0; s < replicas; ++s) schedules.emplace_back(schedule, n_samples, seed, s);
    return schedules;
}

double presentation_end_ms(const ScheduleConfig& schedule, std::size_t n_samples, std::uint64_t seed,
                           std::uint32_t replicas, std::int64_t k) {
    std::vector<PresentationSchedule> schedules = presentation_schedules(schedule, n_samples, seed, replicas);
    std::vector<Presentation> current;
    for (PresentationSchedule& s : schedules) current.push_back(s.next());
    double t = 0.0;
    for (std::int64_t done = 0; done < k; ++done) {
        std::size_t s = 0;  // the earliest end (ties: the lower replica), as drive_presentations takes them
        for (std::size_t q = 1; q < current.size(); ++q)
            if (current[q].end_ms < current[s].end_ms) s = q;
        t = current[s].end_ms;
        current[s] = schedules[s].next();
    }
    return t;
}

PresentationDriver::PresentationDriver(Simulator& sim, DriveTargets targets, const Dataset& data, DriveOptions options,
                                       std::function<void(std::uint32_t, double)> on_teacher_onset)
    : sim_(sim), targets_(std::move(targets)), data_(data), options_(std::move(options)),
      on_teacher_onset_(std::move(on_teacher_onset)) {
    schedules_ = presentation_schedules(options_.schedule, static_cast<std::size_t>(data_.x_train.cols()), options_.seed,
                                        targets_.input->replicas());
    teacher_on_.assign(schedules_.size(), false);
}

void PresentationDriver::anneal() {
    // eta_final_fraction^(done / presentations), held at its final value past the horizon.
    const std::int64_t horizon = options_.presentations;
    if (horizon <= 0) return;
    const double log_final = std::log(options_.eta_final_fraction);
    const double scale = std::exp(log_final * static_cast<double>(std::min(done_, horizon)) / static_cast<double>(horizon));
    for (LagCompensatedRule* r : targets_.annealed) r->set_eta_scale(scale);
}

void PresentationDriver::next_presentation(std::uint32_t s, double t) {
    anneal();
    Presentation& p = current_[s];
    p = schedules_[s].next();
    targets_.input->set_rates(s, t, column(data_.x_train, p.sample));
    sim_.reschedule(targets_.input_population, s);
    targets_.teacher->set_teacher(s, t, 0.0, column(data_.y_train, p.sample));
    teacher_on_[s] = false;
}

std::int64_t PresentationDriver::drive(std::int64_t until, RunObserver& observer, const std::atomic<bool>* stop,
                                       const std::function<bool(std::int64_t)>& checkpoint) {
    if (!can_continue_) throw std::logic_error("PresentationDriver::drive after a checkpoint stopped the schedule");
    PooledPoissonSource& input = *targets_.input;
    TwoChannelUnitPopulation& teacher = *targets_.teacher;
    const auto S = static_cast<std::uint32_t>(schedules_.size());
    const std::int64_t horizon = options_.presentations;
    const std::int64_t every = options_.checkpoint_every > 0 ? options_.checkpoint_every : std::max<std::int64_t>(1, horizon);
    if (!started_) {
        started_ = true;
        for (std::uint32_t s = 0; s < S; ++s) {
            current_.push_back(schedules_[s].next());
            input.set_rates(s, 0.0, column(data_.x_train, current_.back().sample));
        }
        anneal();
        sim_.start(0.0);
        for (std::uint32_t s = 0; s < S; ++s) teacher.set_teacher(s, 0.0, 0.0, column(data_.y_train, current_[s].sample));
    }
    if (pending_next_) {
        // The last call stopped at a presentation's end (at now()): its next sample comes first.
        pending_next_ = false;
        next_presentation(pending_replica_, sim_.now());
    }
    while (done_ < until) {
        // The next schedule event: the earliest over replicas (ties: the lower replica first).
        std::size_t s = 0;
        double t_next = never;
        for (std::size_t q = 0; q < current_.size(); ++q) {
            const double tq = teacher_on_[q] ? current_[q].end_ms : current_[q].teacher_ms;
            if (tq < t_next) {
                t_next = tq;
                s = q;
            }
        }
        sim_.advance(t_next, observer, stop);
        if (stop && stop->load(std::memory_order_relaxed)) throw Interrupted{};
        const auto rs = static_cast<std::uint32_t>(s);
        sim_.rebase(rs);
        if (!teacher_on_[s]) {
            if (on_teacher_onset_) on_teacher_onset_(rs, t_next);
            teacher.set_teacher(rs, t_next, targets_.g_teacher, column(data_.y_train, current_[s].sample));
            teacher_on_[s] = true;
            continue;
        }
        ++done_;
        const bool last = done_ == horizon;
        // The run's final checkpoint (its test pass is the final evaluation) sees every buffered update.
        if (last) sim_.finish();
        if (done_ % every == 0 || last)
            if (!checkpoint(done_)) {
                can_continue_ = false;
                break;
            }
        if (done_ >= until) {
            // Invariant: nothing is advanced before the next call draws this replica's next
            // sample at this same time, so stopping here changes no event.
            pending_next_ = true;
            pending_replica_ = rs;
            break;
        }
        next_presentation(rs, t_next);
    }
    return done_;
}

std::int64_t drive_presentations(Simulator& sim, const DriveTargets& targets, const Dataset& data,
                                 const DriveOptions& options, RunObserver& observer, const std::atomic<bool>* stop,
                                 const std::function<bool(std::int64_t)>& checkpoint,
                                 const std::function<void(std::uint32_t, double)>& on_teacher_onset) {
    PresentationDriver driver(sim, targets, data, options, on_teacher_onset);
    const std::int64_t done = driver.drive(options.presentations, observer, stop, checkpoint);
    if (options.presentations == 0) checkpoint(0);
    sim.finish();
    return done;
}

}  // namespace settle::circuit
