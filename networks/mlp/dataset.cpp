#include "networks/mlp/dataset.hpp"

#include <algorithm>
#include <cmath>

#include "networks/mlp/idx_reader.hpp"
#include "sim/error.hpp"

namespace settle::mlp {

namespace {

IdxArray read_required(const std::string& path) {
    try {
        return read_idx(path);
    } catch (const FileError& e) {
        if (std::string(e.what()).find("no such file") == std::string::npos) throw;
        throw FileError(path, std::string("no such file. Fashion-MNIST is in the Debian package dataset-fashion-mnist: ") +
                                  kFashionMnistInstall + " (or point [data] dir and the file names at IDX files)");
    }
}

Dataset slice(const Dataset& d, std::size_t first, std::size_t count) {
    Dataset out;
    out.classes = d.classes;
    out.x = d.x.middleCols(static_cast<Eigen::Index>(first), static_cast<Eigen::Index>(count));
    out.y.assign(d.y.begin() + static_cast<std::ptrdiff_t>(first), d.y.begin() + static_cast<std::ptrdiff_t>(first + count));
    return out;
}

}  // namespace

Dataset load_idx_dataset(const std::string& images, const std::string& labels, double scale) {
    const IdxArray im = read_required(images);
    const IdxArray lb = read_required(labels);
    if (im.dims.size() < 2) throw FileError(images, "expected an IDX array of examples (at least 2 dimensions)");
    if (lb.dims.size() != 1) throw FileError(labels, "expected a 1-dimensional IDX array of labels");
    const std::size_t n = im.dims[0];
    if (lb.dims[0] != n)
        throw FileError(labels, "has " + std::to_string(lb.dims[0]) + " labels but " + images + " has " +
                                    std::to_string(n) + " examples");
    const std::size_t d = n ? im.count() / n : 0;
    Dataset out;
    out.x.resize(static_cast<Eigen::Index>(d), static_cast<Eigen::Index>(n));
    for (std::size_t j = 0; j < n; ++j)
        for (std::size_t i = 0; i < d; ++i)
            out.x(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) =
                static_cast<float>(im.values[j * d + i] * scale);
    out.y.resize(n);
    int max_label = -1;
    for (std::size_t j = 0; j < n; ++j) {
        const double v = lb.values[j];
        if (!(v >= 0 && v < 1e6 && std::floor(v) == v))
            throw FileError(labels, "label " + std::to_string(j) + " is not a class index: " + std::to_string(v));
        out.y[j] = static_cast<int>(v);
        max_label = std::max(max_label, out.y[j]);
    }
    out.classes = max_label + 1;
    return out;
}

DataSplits load_splits(const DataSpec& spec) {
    const auto path = [&](const std::string& f) { return (f.empty() || f[0] == '/') ? f : spec.dir + "/" + f; };
    Dataset full = load_idx_dataset(path(spec.train_images), path(spec.train_labels), spec.pixel_scale);
    Dataset test = load_idx_dataset(path(spec.test_images), path(spec.test_labels), spec.pixel_scale);
    if (full.features() != test.features())
        throw FileError(path(spec.test_images), "examples have " + std::to_string(test.features()) +
                                                    " values, the training examples " + std::to_string(full.features()));
    if (spec.validation_size >= full.size())
        throw FileError(path(spec.train_images), "has " + std::to_string(full.size()) +
                                                     " examples, not more than validation_size = " +
                                                     std::to_string(spec.validation_size));
    const int classes = std::max(full.classes, test.classes);
    full.classes = test.classes = classes;
    DataSplits s;
    const std::size_t n_train = full.size() - spec.validation_size;
    s.train = slice(full, 0, spec.train_limit ? std::min(spec.train_limit, n_train) : n_train);
    s.validation = slice(full, n_train, spec.validation_size);
    s.test = spec.test_limit ? slice(test, 0, std::min(spec.test_limit, test.size())) : std::move(test);
    return s;
}

}  // namespace settle::mlp
