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
