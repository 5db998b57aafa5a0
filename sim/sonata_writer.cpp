#include "sim/sonata_writer.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "sim/error.hpp"
#include "settle/version.hpp"

namespace settle {

namespace {
constexpr std::size_t spike_chunk = 1u << 15;
constexpr std::size_t spike_buffer_limit = 1u << 16;
constexpr std::size_t report_buffer_limit_values = 1u << 18;

}  // namespace

SonataWriter::SonataWriter(std::string path, bool overwrite, std::vector<std::string> spike_populations,
                           std::vector<ReportSpec> reports, const RunMetadata& metadata, double flush_interval_s)
    : path_(std::move(path)), flush_interval_s_(flush_interval_s) {
    lock_ = std::make_unique<OutputLock>(path_, overwrite);
    // The lock created the file if there was none, so HDF5 truncates what is now ours.
    file_ = h5::open_file(path_, h5::Mode::create_truncate);
    const hid_t root = file_.get();
    h5::attr_u32(root, "magic", 0x0A7A);
    h5::attr_u32s(root, "version", {0, 1});

    {
        h5::Handle meta = h5::create_group(root, "settle");
        h5::attr_string(meta.get(), "settle_version", settle::version);
        h5::attr_string(meta.get(), "git_revision", settle::git_revision);
        h5::attr_u64(meta.get(), "seed", metadata.seed);
        h5::attr_f64(meta.get(), "duration_ms", metadata.duration_ms);
        h5::dataset_string(meta.get(), "config", metadata.config_toml);
    }

    spikes_.resize(spike_populations.size());
    spikes_recorded_.assign(spike_populations.size(), false);
    for (std::size_t p = 0; p < spike_populations.size(); ++p) {
        if (spike_populations[p].empty()) continue;
        h5::Handle g = h5::create_group(root, "spikes/" + spike_populations[p]);
        h5::attr_sorting_by_time(g.get());
        spikes_[p].timestamps = h5::ExtensibleDataset(g.get(), "timestamps", H5T_NATIVE_DOUBLE, 0, spike_chunk);
        h5::attr_string(spikes_[p].timestamps.id(), "units", "ms");
        spikes_[p].node_ids = h5::ExtensibleDataset(g.get(), "node_ids", H5T_NATIVE_UINT64, 0, spike_chunk);
        spikes_recorded_[p] = true;
    }

    for (const auto& spec : reports) {
        h5::Handle g = h5::create_group(root, "report/" + spec.population);
        ReportStream stream;
        stream.columns = spec.nodes.size() * spec.element_ids.size();
        stream.start = spec.start;
        stream.dt = spec.dt;
        const std::size_t chunk_rows = std::max<std::size_t>(1, (1u << 14) / std::max<std::size_t>(stream.columns, 1));
        stream.data = h5::ExtensibleDataset(g.get(), "data", H5T_NATIVE_FLOAT, stream.columns, chunk_rows);
        std::vector<std::string> names, units;
        for (std::size_t n = 0; n < spec.nodes.size(); ++n)
            for (std::size_t e = 0; e < spec.element_ids.size(); ++e) {
                names.push_back(spec.element_names[e]);
                units.push_back(spec.element_units[e]);
            }
        bool same_unit = true;
        for (const auto& u : spec.element_units) same_unit = same_unit && u == spec.element_units.front();
        h5::attr_strings(stream.data.id(), "element_names", names);
        h5::attr_strings(stream.data.id(), "element_units", units);
        h5::attr_string(stream.data.id(), "units", same_unit && !spec.element_units.empty() ? spec.element_units.front() : "mixed");
        h5::Handle mapping = h5::create_group(g.get(), "mapping");
        std::vector<std::uint64_t> node_ids(spec.nodes.begin(), spec.nodes.end());
        std::vector<std::uint64_t> pointers(spec.nodes.size() + 1);
        for (std::size_t n = 0; n <= spec.nodes.size(); ++n) pointers[n] = n * spec.element_ids.size();
        std::vector<std::uint32_t> element_ids;
        for (std::size_t n = 0; n < spec.nodes.size(); ++n)
            for (int e : spec.element_ids) element_ids.push_back(static_cast<std::uint32_t>(e));
        h5::dataset_u64(mapping.get(), "node_ids", node_ids);
        h5::dataset_u64(mapping.get(), "index_pointers", pointers);
        h5::dataset_u32(mapping.get(), "element_ids", element_ids);
        h5::dataset_f64(mapping.get(), "time", {spec.start, spec.start, spec.dt});
        stream.time = h5::open_dataset(mapping.get(), "time");
        h5::attr_string(stream.time.get(), "units", "ms");
        reports_.push_back(std::move(stream));
    }
    h5::start_swmr(root, path_);
    last_flush_ = std::chrono::steady_clock::now();
}

void SonataWriter::on_spike(std::size_t population, node_index node, time_ms t) {
    SpikeStream& s = spikes_[population];
    s.t_buffer.push_back(t);
    s.id_buffer.push_back(node);
    if (s.t_buffer.size() >= spike_buffer_limit) guarded([&] {
        reserve_for(space_bound(s));
        s.timestamps.append(s.t_buffer.data(), s.t_buffer.size());
        s.node_ids.append(s.id_buffer.data(), s.id_buffer.size());
        s.t_buffer.clear();
        s.id_buffer.clear();
    });
}

void SonataWriter::on_sample(std::size_t probe, std::uint64_t, time_ms t, const std::vector<double>& row) {
    ReportStream& r = reports_[probe];
    // The first row fixes the report's start (a driver may know its window only when it runs).
    if (r.data.rows() == 0 && r.buffer.empty()) r.start = t;
    for (double v : row) r.buffer.push_back(static_cast<float>(v));
    if (r.buffer.size() >= report_buffer_limit_values) guarded([&] {
        reserve_for(r.data.append_space_bound(r.buffer.size() / std::max<std::size_t>(r.columns, 1)));
        r.data.append(r.buffer.data(), r.buffer.size() / std::max<std::size_t>(r.columns, 1));
        r.buffer.clear();
    });
}

// Why space is reserved: HDF5 records a new end of file before it writes there, so a write that
// fails at a full disk or a file-size limit would leave a file whose recorded end lies beyond its
// real one, and HDF5 refuses to open such a file ("truncated file"). With the space reserved first
// (posix_fallocate on the locked descriptor), a write that cannot fit is refused before anything
// is written, and the file stays as of its last flush, readable. A clean end shrinks the file back
// to what HDF5 allocated; a killed run's file may keep a reserved tail that no dataset refers to.
void SonataWriter::reserve_for(std::uint64_t bytes) {
    // Metadata that a flush can add: chunk-index blocks, object headers, the superblock.
    const std::uint64_t metadata_margin = (32u << 10) + (8u << 10) * (2 * spikes_.size() + reports_.size());
    unflushed_bound_ += bytes;
    const std::uint64_t eoa = h5::end_of_allocation(file_.get(), path_);
    const std::uint64_t target = eoa + unflushed_bound_ + metadata_margin;
    if (target <= reserved_) return;
    // Only the new part: what lies below reserved_ was reserved before (a file system that emulates
    // fallocate would otherwise touch the whole file at every flush).
    const int err = lock_->reserve(std::min(reserved_, eoa), target);
    if (err == EOPNOTSUPP || err == EINVAL) return;  // this file system cannot reserve: write unreserved
    if (err != 0)
        throw FileError(path_, "no space for the next " + std::to_string(target - eoa) + " bytes: " + std::strerror(err));
    reserved_ = target;
}

std::uint64_t SonataWriter::space_bound(const SpikeStream& s) {
    return s.timestamps.append_space_bound(s.t_buffer.size()) + s.node_ids.append_space_bound(s.id_buffer.size());
}

std::uint64_t SonataWriter::buffers_space_bound() const {
    std::uint64_t bound = 0;
    for (std::size_t p = 0; p < spikes_.size(); ++p) {
        if (!spikes_recorded_[p]) continue;
        bound += space_bound(spikes_[p]);
    }
    for (const ReportStream& r : reports_)
        if (r.columns > 0) bound += r.data.append_space_bound(r.buffer.size() / r.columns);
    return bound;
}

void SonataWriter::write_buffers() {
    for (std::size_t p = 0; p < spikes_.size(); ++p) {
        if (!spikes_recorded_[p]) continue;
        SpikeStream& s = spikes_[p];
        s.timestamps.append(s.t_buffer.data(), s.t_buffer.size());
        s.node_ids.append(s.id_buffer.data(), s.id_buffer.size());
        s.t_buffer.clear();
        s.id_buffer.clear();
    }
    for (ReportStream& r : reports_) {
        if (r.columns > 0) r.data.append(r.buffer.data(), r.buffer.size() / r.columns);
        r.buffer.clear();
        const double stop = r.start + static_cast<double>(r.data.rows()) * r.dt;
        h5::overwrite_f64(r.time.get(), {r.start, stop, r.dt});
    }
}

void SonataWriter::flush_to_disk() {
    reserve_for(buffers_space_bound());
    write_buffers();
    h5::flush(file_.get(), path_);
    unflushed_bound_ = 0;
    for (SpikeStream& s : spikes_) {
        s.timestamps.mark_durable();
        s.node_ids.mark_durable();
    }
    for (ReportStream& r : reports_) r.data.mark_durable();
    ++flushes_;
    last_flush_ = std::chrono::steady_clock::now();
}

void SonataWriter::on_progress(time_ms, std::uint64_t) {
    const double since = std::chrono::duration<double>(std::chrono::steady_clock::now() - last_flush_).count();
    if (since >= flush_interval_s_) guarded([&] { flush_to_disk(); });
}

void SonataWriter::fail(const std::string& why) {
    failed_ = true;

    // Best effort: the datasets go back to the rows of the last successful flush, whose data is
    // on disk, and that state is flushed. A timestamps and a node_ids dataset then still agree.
    for (SpikeStream& s : spikes_) {
        s.timestamps.truncate_to_durable();
        s.node_ids.truncate_to_durable();
    }
    for (ReportStream& r : reports_) {
        r.data.truncate_to_durable();
        if (r.time) {
            const double stop = r.start + static_cast<double>(r.data.rows()) * r.dt;
            const double span[3] = {r.start, stop, r.dt};
            H5Dwrite(r.time.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, span);
        }
    }
    if (file_ && H5Fflush(file_.get(), H5F_SCOPE_GLOBAL) >= 0) {
        // Drop the reserved tail past what HDF5 allocated (nothing refers to it). Best effort.
        try {
            lock_->shrink_to(h5::end_of_allocation(file_.get(), path_));
        } catch (const FileError&) {
        }
    }
    throw OutputError(path_, "writing failed (" + why +
                                 "): the file keeps what was flushed before and is not marked complete");
}

void SonataWriter::add_final_weights(const std::string& projection, std::vector<std::uint64_t> sources,
                                     std::vector<std::uint64_t> targets, std::vector<double> weights) {
    final_weights_.push_back({projection, std::move(sources), std::move(targets), std::move(weights)});
}

void SonataWriter::finish(const RunStats& stats, const std::vector<std::string>& population_names,
                          const InMemoryResults& results, const std::string& summary_json, double wall_seconds) {
    if (failed_) return;
    guarded([&] { write_buffers_and_metadata(stats, population_names, results, summary_json, wall_seconds); });
}

void SonataWriter::write_buffers_and_metadata(const RunStats& stats, const std::vector<std::string>& population_names,
                                              const InMemoryResults& results, const std::string& summary_json,
                                              double wall_seconds) {
    // The metadata of a clean end: counts, metrics, arrays, weights, the summary, and room for
    // their object headers.
    std::uint64_t metadata = summary_json.size() + (1u << 20) + 64 * population_names.size();
    for (const auto& [name, value] : results.scalars) metadata += name.size() + 4096;
    for (const auto& [name, values] : results.series) metadata += name.size() + 4096 + 8 * values.size();
    for (const auto& [name, a] : results.arrays) metadata += name.size() + 4096 + 8 * a.values.size();
    for (const auto& fw : final_weights_) metadata += 3 * 4096 + 8 * (fw.sources.size() + fw.targets.size() + fw.weights.size());
    reserve_for(buffers_space_bound() + metadata);
    write_buffers();
    file_.reset();  // ends SWMR writing; attributes can only be added outside it
    file_ = h5::open_file(path_, h5::Mode::read_write);
    h5::Handle meta = h5::open_group(file_.get(), "settle");
    {
        h5::Handle counts = h5::create_group(meta.get(), "spike_counts");
        for (std::size_t p = 0; p < population_names.size(); ++p)
            h5::attr_u64(counts.get(), population_names[p], stats.spikes[p]);
    }
    if (!results.scalars.empty() || !results.series.empty()) {
        h5::Handle metrics = h5::create_group(meta.get(), "metrics");
        for (const auto& [name, value] : results.scalars) h5::dataset_f64(metrics.get(), name, {value});
        for (const auto& [name, values] : results.series) h5::dataset_f64(metrics.get(), name, values);
    }
    if (!results.arrays.empty()) {
        h5::Handle arrays = h5::create_group(meta.get(), "arrays");
        for (const auto& [name, a] : results.arrays) h5::dataset_f64_2d(arrays.get(), name, a.rows, a.cols, a.values);
    }
    if (!final_weights_.empty()) {
        h5::Handle weights = h5::create_group(meta.get(), "weights");
        for (const auto& fw : final_weights_) {
            h5::Handle g = h5::create_group(weights.get(), fw.projection);
            h5::dataset_u64(g.get(), "source", fw.sources);
            h5::dataset_u64(g.get(), "target", fw.targets);
            h5::dataset_f64(g.get(), "weight", fw.weights);
        }
    }
    h5::dataset_string(meta.get(), "summary", summary_json);
    h5::attr_string(meta.get(), "stop_reason", stats.interrupted ? "interrupted" : "finished");
    h5::attr_f64(meta.get(), "simulated_ms", stats.simulated_ms);
    h5::attr_f64(meta.get(), "wall_seconds", wall_seconds);
    h5::attr_u64(meta.get(), "events", stats.events);
    h5::attr_u8(meta.get(), "complete", 1);
    meta.reset();
    h5::flush(file_.get(), path_);
    file_.reset();
    // Back to what HDF5 allocated, as its superblock records it after the close: no unused
    // reserved tail in a complete file.
    std::uint64_t eoa = 0;
    {
        const h5::Handle closed = h5::open_file(path_, h5::Mode::read_only);
        eoa = h5::end_of_allocation(closed.get(), path_);
    }
    lock_->shrink_to(eoa);
}

}  // namespace settle
