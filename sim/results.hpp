#pragma once
// Where experiments put what they measured. The CLI implements this with the HDF5 output file
// (under /settle/metrics and /settle/arrays) and the JSON summary line; tests implement it in
// memory. Experiments never see files.
#include <cstddef>
#include <string>
#include <vector>

namespace settle {

class ResultSink {
public:
    virtual ~ResultSink() = default;
    // A scalar metric: JSON summary `metrics.<name>` and /settle/metrics/<name>.
    virtual void metric(const std::string& name, double value) = 0;
    // A series metric (per epoch, per repetition, per layer...): same places, as an array.
    virtual void metric_series(const std::string& name, const std::vector<double>& values) = 0;
    // A bulky array (weights, curves) for the HDF5 file only: /settle/arrays/<name>, row-major.
    virtual void array(const std::string& name, std::size_t rows, std::size_t cols,
                       const std::vector<double>& row_major) = 0;
};

}  // namespace settle

#include <map>

namespace settle {

// Keeps everything in memory, in insertion-independent (sorted) order.
class InMemoryResults final : public ResultSink {
public:
    struct Array {
        std::size_t rows = 0, cols = 0;
        std::vector<double> values;
    };
    void metric(const std::string& name, double value) override { scalars[name] = value; }
    void metric_series(const std::string& name, const std::vector<double>& values) override { series[name] = values; }
    void array(const std::string& name, std::size_t rows, std::size_t cols, const std::vector<double>& v) override {
        arrays[name] = Array{rows, cols, v};
    }
    std::map<std::string, double> scalars;
    std::map<std::string, std::vector<double>> series;
    std::map<std::string, Array> arrays;
};

}  // namespace settle
