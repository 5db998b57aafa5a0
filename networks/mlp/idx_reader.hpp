#pragma once
// Reader for the IDX format of MNIST, Fashion-MNIST and friends (LeCun et al.), plain or gzipped.
//
// An IDX file is: two zero bytes, a type code (0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
// 0x0D float32, 0x0E float64), the number of dimensions, one big-endian uint32 size per
// dimension, then the values, big-endian, in row-major order. Any such file is read; a missing,
// truncated or malformed file is a settle::FileError naming it and what is wrong.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace settle::mlp {

struct IdxArray {
    std::uint8_t type_code = 0x08;
    std::vector<std::size_t> dims;
    std::vector<double> values;  // row-major, converted to double (exact for every IDX type)
    std::size_t count() const;   // product of dims
};

IdxArray read_idx(const std::string& path);

// Writes uint8 data as an IDX file (gzipped when the name ends in .gz): for tests and tools.
void write_idx_u8(const std::string& path, const std::vector<std::size_t>& dims, const std::vector<std::uint8_t>& data);

}  // namespace settle::mlp
