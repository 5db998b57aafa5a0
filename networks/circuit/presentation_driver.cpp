#include "networks/circuit/presentation_driver.hpp"

#include <algorithm>
#include <cmath>

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

std::int64_t drive_presentations(Simulator& sim, const DriveTargets& targets, const Dataset& data,
                                 const DriveOptions& options, RunObserver& observer, const std::atomic<bool>* stop,
                                 const std::function<bool(std::int64_t)>& checkpoint,
                                 const std::function<void(std::uint32_t, double)>& on_teacher_onset) {
    PooledPoissonSource& input = *targets.input;
    TwoChannelUnitPopulation& teacher = *targets.teacher;
    const std::uint32_t S = input.replicas();
    const std::int64_t presentations = options.presentations;
    std::vector<PresentationSchedule> schedules =
        presentation_schedules(options.schedule, static_cast<std::size_t>(data.x_train.cols()), options.seed, S);
    std::vector<Presentation> current;
    std::vector<bool> teacher_on(S, false);
    for (std::uint32_t s = 0; s < S; ++s) {
        current.push_back(schedules[s].next());
        input.set_rates(s, 0.0, column(data.x_train, current.back().sample));
    }
    const std::int64_t every = options.checkpoint_every > 0 ? options.checkpoint_every : std::max<std::int64_t>(1, presentations);
    const double log_final = std::log(options.eta_final_fraction);
    std::int64_t done = 0;
    auto anneal = [&] {
        if (presentations > 0)
            for (LagCompensatedRule* r : targets.annealed)
                r->set_eta_scale(std::exp(log_final * static_cast<double>(done) / static_cast<double>(presentations)));
    };
    anneal();
    sim.start(0.0);
    for (std::uint32_t s = 0; s < S; ++s) teacher.set_teacher(s, 0.0, 0.0, column(data.y_train, current[s].sample));
    while (done < presentations) {
        // The next schedule event: the earliest over replicas (ties: the lower replica first).
        std::size_t s = 0;
        double t_next = never;
        for (std::size_t q = 0; q < current.size(); ++q) {
            const double tq = teacher_on[q] ? current[q].end_ms : current[q].teacher_ms;
            if (tq < t_next) {
                t_next = tq;
                s = q;
            }
        }
        sim.advance(t_next, observer, stop);
        if (stop && stop->load(std::memory_order_relaxed)) throw Interrupted{};
        const auto rs = static_cast<std::uint32_t>(s);
        sim.rebase(rs);
        Presentation& p = current[s];
        if (!teacher_on[s]) {
            if (on_teacher_onset) on_teacher_onset(rs, t_next);
            teacher.set_teacher(rs, t_next, targets.g_teacher, column(data.y_train, p.sample));
            teacher_on[s] = true;
            continue;
        }
        ++done;
        const bool last = done >= presentations;
        // The final checkpoint (its test pass is the final evaluation) sees every buffered update.
        if (last) sim.finish();
        if (done % every == 0 || last)
            if (!checkpoint(done)) break;
        if (last) break;
        anneal();
        p = schedules[s].next();
        input.set_rates(rs, t_next, column(data.x_train, p.sample));
        sim.reschedule(targets.input_population, s);
        teacher.set_teacher(rs, t_next, 0.0, column(data.y_train, p.sample));
        teacher_on[s] = false;
    }
    if (presentations == 0) checkpoint(0);
    sim.finish();
    return done;
}

}  // namespace settle::circuit
