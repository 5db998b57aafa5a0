// The writer's clean end: metrics, series and arrays (also under nested names) land in /settle.
#include <unistd.h>

#include <catch2/catch.hpp>

#include "sim/hdf5_file.hpp"
#include "sim/sonata_writer.hpp"

using namespace settle;

namespace {
// The library's reader takes 1-D datasets only; arrays are 2-D, so they are read whole here.
std::vector<double> read_2d(hid_t parent, const std::string& name) {
    const auto shape = h5::dataset_shape(parent, name);
    REQUIRE(shape.size() == 2);
    std::vector<double> out(shape[0] * shape[1]);
    h5::Handle d = h5::open_dataset(parent, name);
    REQUIRE(H5Dread(d.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()) >= 0);
    return out;
}
}  // namespace

TEST_CASE("finish() writes metrics and nested arrays", "[writer]") {
    const std::string path = "test_writer_" + std::to_string(getpid()) + ".h5";
    {
        SonataWriter writer(path, true, {}, {}, RunMetadata{"seed = 1\n", 1, 0.0}, 60.0);
        InMemoryResults results;
        results.metric("accuracy", 0.5);
        results.metric_series("loss", {3.0, 2.0, 1.0});
        results.array("weights/W0", 2, 3, {1, 2, 3, 4, 5, 6});
        results.array("curves/update_angle_deg", 1, 2, {10, 20});
        RunStats stats;
        writer.finish(stats, {}, results, "{}", 0.1);
    }
    h5::Handle file = h5::open_file_for_reading(path);
    h5::Handle meta = h5::open_group(file.get(), "settle");
    CHECK(h5::read_attr_u64(meta.get(), "seed") == 1);
    // Values, not only shapes: a writer that dropped or reordered values must fail here.
    CHECK(h5::read_f64_dataset(meta.get(), "metrics/accuracy") == std::vector<double>{0.5});
    CHECK(h5::read_f64_dataset(meta.get(), "metrics/loss") == std::vector<double>{3.0, 2.0, 1.0});
    CHECK(h5::dataset_shape(meta.get(), "arrays/weights/W0") == std::vector<std::uint64_t>{2, 3});
    CHECK(read_2d(meta.get(), "arrays/weights/W0") == std::vector<double>{1, 2, 3, 4, 5, 6});
    CHECK(h5::dataset_shape(meta.get(), "arrays/curves/update_angle_deg") == std::vector<std::uint64_t>{1, 2});
    CHECK(read_2d(meta.get(), "arrays/curves/update_angle_deg") == std::vector<double>{10, 20});
    file.reset();
    std::remove(path.c_str());
}
