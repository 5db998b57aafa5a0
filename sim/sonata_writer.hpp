#pragma once
// Streams a run to an HDF5 file in the SONATA output layout (docs/file-format.md).
//
// All datasets are created before the run and the file switches to SWMR mode, so that at every
// flush the file on disk is valid and readable (also by h5py while the run goes). A run killed
// part-way leaves everything up to the last flush and no `complete` mark; finish() closes SWMR
// mode, reopens the file and adds the metadata that only a clean end knows.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/error.hpp"
#include "sim/hdf5_file.hpp"
#include "sim/output_lock.hpp"
#include "sim/results.hpp"
#include "sim/simulator.hpp"

namespace settle {

struct ReportSpec {
    std::string population;
    std::vector<node_index> nodes;
    std::vector<int> element_ids;
    std::vector<std::string> element_names;
    std::vector<std::string> element_units;
    time_ms start = 0.0;
    time_ms dt = 0.1;
};

struct RunMetadata {
    std::string config_toml;
    std::uint64_t seed = 0;
    time_ms duration_ms = 0.0;
};

class SonataWriter final : public RunObserver {
public:
    // spike_populations[i]: name of population i if its spikes are recorded, else "".
    // reports[k] describes probe k of the simulator.
    SonataWriter(std::string path, bool overwrite, std::vector<std::string> spike_populations,
                 std::vector<ReportSpec> reports, const RunMetadata& metadata, double flush_interval_s);

    void on_spike(std::size_t population, node_index node, time_ms t) override;
    void on_sample(std::size_t probe, std::uint64_t step, time_ms t, const std::vector<double>& row) override;
    void on_progress(time_ms t, std::uint64_t events) override;

    // Final weights of a projection, written by finish() as /settle/weights/<name>/{source,target,weight}.
    void add_final_weights(const std::string& projection, std::vector<std::uint64_t> sources,
                           std::vector<std::uint64_t> targets, std::vector<double> weights);
    // Writes buffered data, then the metadata of a clean end, and closes the file.
    void finish(const RunStats& stats, const std::vector<std::string>& population_names, const InMemoryResults& results,
                const std::string& summary_json, double wall_seconds);
    const std::string& path() const { return path_; }
    std::uint64_t flushes() const { return flushes_; }

private:
    struct SpikeStream {
        h5::ExtensibleDataset timestamps, node_ids;
        std::vector<double> t_buffer;
        std::vector<std::uint64_t> id_buffer;
    };
    struct ReportStream {
        h5::ExtensibleDataset data;
        h5::Handle time;
        std::vector<float> buffer;
        std::size_t columns = 0;
        time_ms start = 0.0, dt = 0.1;
    };
    void write_buffers();
    // The file space write_buffers() can allocate (ExtensibleDataset::append_space_bound), and
    // one spike stream's part of it.
    std::uint64_t buffers_space_bound() const;
    static std::uint64_t space_bound(const SpikeStream& s);
    // Reserves on disk what the next write can allocate, before it happens (see sonata_writer.cpp);
    // throws FileError when the disk or the file-size limit refuses it.
    void reserve_for(std::uint64_t bytes);
    void flush_to_disk();
    void write_buffers_and_metadata(const RunStats& stats, const std::vector<std::string>& population_names,
                                    const InMemoryResults& results, const std::string& summary_json, double wall_seconds);
    // Runs a write; a failure (FileError from HDF5) becomes fail(). Nothing is written after one.
    template <class Write>
    void guarded(Write&& write) {
        if (failed_) return;
        try {
            write();
        } catch (const FileError& e) {
            fail(e.what());
        }
    }
    // Trims the datasets to what is on disk and throws OutputError.
    [[noreturn]] void fail(const std::string& why);
    bool failed_ = false;
    // Space reserved so far (the file's allocated length) and the bound of what was written since
    // the last flush (HDF5 may allocate it only when the flush writes its cached chunks).
    std::uint64_t reserved_ = 0, unflushed_bound_ = 0;

    std::string path_;
    // Declared before file_: taken before the file is created or truncated, released after it
    // is closed.
    std::unique_ptr<OutputLock> lock_;
    h5::Handle file_;
    std::vector<SpikeStream> spikes_;       // indexed by population, empty streams where unrecorded
    std::vector<bool> spikes_recorded_;
    std::vector<ReportStream> reports_;
    double flush_interval_s_;
    std::chrono::steady_clock::time_point last_flush_;
    std::uint64_t flushes_ = 0;
    struct FinalWeights {
        std::string projection;
        std::vector<std::uint64_t> sources, targets;
        std::vector<double> weights;
    };
    std::vector<FinalWeights> final_weights_;
};

}  // namespace settle
