#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "helpers.hpp"
#include "networks/mlp/dataset.hpp"
#include "networks/mlp/idx_reader.hpp"
#include "sim/error.hpp"

using namespace mlp_test;
using Catch::Matchers::Contains;

namespace {

std::vector<std::uint8_t> ramp(std::size_t n) {
    std::vector<std::uint8_t> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>((i * 37) % 256);
    return v;
}

void write_bytes(const std::string& path, const std::vector<unsigned char>& bytes) {
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                                static_cast<std::streamsize>(bytes.size()));
}

std::vector<unsigned char> read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

}  // namespace

TEST_CASE("IDX reader reads plain and gzipped uint8 files", "[idx]") {
    TempDir dir;
    const auto data = ramp(3 * 4 * 5);
    for (const char* name : {"a-idx3-ubyte", "a-idx3-ubyte.gz"}) {
        write_idx_u8(dir.file(name), {3, 4, 5}, data);
        const IdxArray a = read_idx(dir.file(name));
        REQUIRE(a.type_code == 0x08);
        REQUIRE(a.dims == std::vector<std::size_t>{3, 4, 5});
        REQUIRE(a.values.size() == data.size());
        for (std::size_t i = 0; i < data.size(); ++i) REQUIRE(a.values[i] == data[i]);
    }
}

TEST_CASE("IDX reader decodes big-endian signed and float types", "[idx]") {
    TempDir dir;
    // int16 (0x0B), 1 dimension of 2: -2, 258
    write_bytes(dir.file("s16"), {0, 0, 0x0B, 1, 0, 0, 0, 2, 0xFF, 0xFE, 0x01, 0x02});
    const IdxArray s = read_idx(dir.file("s16"));
    REQUIRE(s.values == std::vector<double>{-2.0, 258.0});
    // float32 (0x0D): 1.5 = 0x3FC00000
    write_bytes(dir.file("f32"), {0, 0, 0x0D, 1, 0, 0, 0, 1, 0x3F, 0xC0, 0x00, 0x00});
    REQUIRE(read_idx(dir.file("f32")).values == std::vector<double>{1.5});
}

TEST_CASE("IDX reader rejects truncated files with a clear error", "[idx]") {
    TempDir dir;
    write_idx_u8(dir.file("good"), {10, 8}, ramp(80));
    auto bytes = read_bytes(dir.file("good"));
    SECTION("data cut short") {
        bytes.resize(bytes.size() - 7);
        write_bytes(dir.file("bad"), bytes);
        REQUIRE_THROWS_MATCHES(read_idx(dir.file("bad")), settle::FileError,
                               Catch::Matchers::Message(dir.file("bad") +
                                                        ": truncated IDX file: its header declares 80 bytes of data, the file holds 73"));
    }
    SECTION("header cut short") {
        bytes.resize(6);
        write_bytes(dir.file("bad"), bytes);
        REQUIRE_THROWS_WITH(read_idx(dir.file("bad")), Contains("truncated IDX file") && Contains("dimension sizes"));
    }
    SECTION("empty file") {
        write_bytes(dir.file("bad"), {});
        REQUIRE_THROWS_WITH(read_idx(dir.file("bad")), Contains("truncated IDX file") && Contains("magic number"));
    }
    SECTION("gzip stream cut short") {
        write_idx_u8(dir.file("good.gz"), {10, 8}, ramp(80));
        auto gz = read_bytes(dir.file("good.gz"));
        gz.resize(gz.size() / 2);
        write_bytes(dir.file("bad.gz"), gz);
        REQUIRE_THROWS_AS(read_idx(dir.file("bad.gz")), settle::FileError);
    }
    SECTION("trailing bytes") {
        bytes.push_back(1);
        write_bytes(dir.file("bad"), bytes);
        REQUIRE_THROWS_WITH(read_idx(dir.file("bad")), Contains("trailing bytes"));
    }
}

TEST_CASE("IDX reader rejects wrong magic numbers", "[idx]") {
    TempDir dir;
    SECTION("not starting with two zero bytes") {
        write_bytes(dir.file("bad"), {0x1F, 0x00, 0x08, 0x01, 0, 0, 0, 1, 5});
        REQUIRE_THROWS_WITH(read_idx(dir.file("bad")), Contains("bad magic number 0x1F000801"));
    }
    SECTION("unknown type code") {
        write_bytes(dir.file("bad"), {0, 0, 0x07, 0x01, 0, 0, 0, 1, 5});
        REQUIRE_THROWS_WITH(read_idx(dir.file("bad")), Contains("not an IDX file"));
    }
    SECTION("zero dimensions") {
        write_bytes(dir.file("bad"), {0, 0, 0x08, 0x00});
        REQUIRE_THROWS_WITH(read_idx(dir.file("bad")), Contains("bad magic number"));
    }
    SECTION("a text file") {
        std::ofstream(dir.file("bad")) << "hello world, not an IDX file\n";
        REQUIRE_THROWS_AS(read_idx(dir.file("bad")), settle::FileError);
    }
}

TEST_CASE("Missing data files name the install command", "[idx][data]") {
    DataSpec spec;
    spec.dir = "/nonexistent/settle-fashion-mnist";
    REQUIRE_THROWS_WITH(load_splits(spec), Contains("/nonexistent/settle-fashion-mnist/train-images-idx3-ubyte.gz") &&
                                               Contains("sudo apt-get install dataset-fashion-mnist"));
}

TEST_CASE("Dataset loading: scaling, splits, mismatched label counts", "[data]") {
    TempDir dir;
    std::vector<std::uint8_t> images(12 * 2 * 2), labels(12);
    for (std::size_t i = 0; i < images.size(); ++i) images[i] = static_cast<std::uint8_t>(i);
    for (std::size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<std::uint8_t>(i % 3);
    write_idx_u8(dir.file("tr-img.gz"), {12, 2, 2}, images);
    write_idx_u8(dir.file("tr-lab.gz"), {12}, labels);
    write_idx_u8(dir.file("te-img.gz"), {5, 2, 2}, std::vector<std::uint8_t>(images.begin(), images.begin() + 20));
    write_idx_u8(dir.file("te-lab.gz"), {5}, std::vector<std::uint8_t>(labels.begin(), labels.begin() + 5));
    DataSpec spec;
    spec.dir = dir.path.string();
    spec.train_images = "tr-img.gz";
    spec.train_labels = "tr-lab.gz";
    spec.test_images = "te-img.gz";
    spec.test_labels = "te-lab.gz";
    spec.validation_size = 4;
    const DataSplits s = load_splits(spec);
    REQUIRE(s.train.size() == 8);
    REQUIRE(s.validation.size() == 4);
    REQUIRE(s.test.size() == 5);
    REQUIRE(s.train.features() == 4);
    REQUIRE(s.train.classes == 3);
    REQUIRE(s.train.x(1, 2) == Approx(9.0 / 255.0));
    REQUIRE(s.validation.x(0, 0) == Approx(32.0 / 255.0));  // training example 8
    REQUIRE(s.validation.y[0] == 8 % 3);
    write_idx_u8(dir.file("te-lab.gz"), {4}, std::vector<std::uint8_t>(labels.begin(), labels.begin() + 4));
    REQUIRE_THROWS_WITH(load_splits(spec), Contains("has 4 labels but") && Contains("has 5 examples"));
}
