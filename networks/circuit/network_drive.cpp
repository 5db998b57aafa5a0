#include "networks/circuit/network_drive.hpp"

#include <cmath>
#include <string>
#include <vector>

#include "networks/circuit/presentation_driver.hpp"
#include "networks/circuit/tasks.hpp"

namespace settle::circuit {

struct NetworkDrive::Impl {
    DriveTargets targets;
    DriveOptions options;
    Dataset data;
    double end_ms = 0.0;
};

NetworkDrive::NetworkDrive(ConfigTable& root, Network& net, std::uint64_t seed) : impl_(std::make_unique<Impl>()) {
    auto drive = root.table("drive");
    ConfigTable& d = *drive;
    auto population = [&](const std::string& key) {
        const std::string name = d.require_string(key);
        const long i = net.find_population(name);
        if (i < 0) d.fail(key, "no population named '" + name + "'");
        return static_cast<std::size_t>(i);
    };
    DriveTargets& t = impl_->targets;
    t.input_population = population("input");
    t.input = dynamic_cast<PooledPoissonSource*>(&net.population(t.input_population));
    if (!t.input) d.fail("input", "'" + net.population(t.input_population).name() + "' is " +
                                      net.population(t.input_population).model() + ", the drive's input is a pooled_poisson_source");
    const std::size_t teacher = population("teacher");
    t.teacher = dynamic_cast<TwoChannelUnitPopulation*>(&net.population(teacher));
    if (!t.teacher) d.fail("teacher", "'" + net.population(teacher).name() + "' is " + net.population(teacher).model() +
                                          ", the teacher acts on a two_channel_unit");
    if (t.teacher->replicas() != t.input->replicas())
        d.fail("teacher", "'" + t.teacher->name() + "' has " + std::to_string(t.teacher->replicas()) + " replicas, the input " +
                              std::to_string(t.input->replicas()) + ": each replica is one presentation stream");
    t.g_teacher = require_non_negative(d, "g_teacher", d.get_double("g_teacher", 1.0));
    for (const std::string& name : d.get_string_array("anneal")) {
        const long p = net.find_dense_projection(name);
        if (p < 0) d.fail("anneal", "no dense projection named '" + name + "'");
        auto* rule = dynamic_cast<LagCompensatedRule*>(net.dense_projection(static_cast<std::size_t>(p)).rule());
        if (!rule) d.fail("anneal", "'" + name + "' has no lag_compensated rule to anneal");
        t.annealed.push_back(rule);
    }
    DriveOptions& o = impl_->options;
    o.presentations = d.require_int("presentations");
    if (o.presentations < 0) d.fail("presentations", "must be >= 0");
    o.eta_final_fraction = d.get_double("eta_final_fraction", 1.0);
    if (!(o.eta_final_fraction > 0.0)) d.fail("eta_final_fraction", "must be > 0");
    o.seed = seed;
    d.finish();
    TaskConfig task;
    if (auto tt = root.table("task")) {
        read_task(*tt, task);
        tt->finish();
    } else {
        root.fail("task", "required with [drive]: the samples to present");
    }
    if (auto s = root.table("schedule")) read_schedule(*s, o.schedule);
    try {
        impl_->data = make_dataset(task, seed);
    } catch (const std::exception& e) {
        root.fail("task", e.what());
    }
    if (static_cast<std::size_t>(impl_->data.x_train.rows()) != t.input->units())
        d.fail("input", "the task has " + std::to_string(impl_->data.x_train.rows()) + " inputs, '" + t.input->name() + "' " +
                            std::to_string(t.input->units()) + " units");
    if (static_cast<std::size_t>(impl_->data.y_train.rows()) != t.teacher->units())
        d.fail("teacher", "the task has " + std::to_string(impl_->data.y_train.rows()) + " targets, '" + t.teacher->name() +
                              "' " + std::to_string(t.teacher->units()) + " units");
    impl_->end_ms = presentation_end_ms(o.schedule, static_cast<std::size_t>(impl_->data.x_train.cols()), seed,
                                        t.input->replicas(), o.presentations);
}

NetworkDrive::~NetworkDrive() = default;
NetworkDrive::NetworkDrive(NetworkDrive&&) noexcept = default;

std::int64_t NetworkDrive::presentations() const { return impl_->options.presentations; }
double NetworkDrive::end_ms() const { return impl_->end_ms; }

std::int64_t NetworkDrive::run(Simulator& sim, RunObserver& observer, const std::atomic<bool>* stop,
                               const std::function<void(std::int64_t)>& progress) const {
    DriveOptions o = impl_->options;
    o.checkpoint_every = std::max<std::int64_t>(1, o.presentations / 100);
    return drive_presentations(sim, impl_->targets, impl_->data, o, observer, stop, [&](std::int64_t done) {
        if (progress) progress(done);
        return true;
    });
}

}  // namespace settle::circuit
