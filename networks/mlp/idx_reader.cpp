#include "networks/mlp/idx_reader.hpp"

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <sys/stat.h>

#include "sim/error.hpp"

namespace settle::mlp {

namespace {

struct GzCloser {
    void operator()(gzFile_s* f) const { gzclose(f); }
};
using GzHandle = std::unique_ptr<gzFile_s, GzCloser>;

// Reads exactly n bytes or throws naming what was being read.
void read_exact(gzFile f, const std::string& path, void* buf, std::size_t n, const char* what) {
    auto* p = static_cast<unsigned char*>(buf);
    std::size_t done = 0;
    while (done < n) {
        const unsigned chunk = static_cast<unsigned>(std::min<std::size_t>(n - done, 1u << 30));
        const int got = gzread(f, p + done, chunk);
        if (got < 0) {
            int err = 0;
            const char* msg = gzerror(f, &err);
            throw FileError(path, std::string("cannot read ") + what + ": " + (msg ? msg : "zlib error"));
        }
        if (got == 0)
            throw FileError(path, std::string("truncated IDX file: expected ") + std::to_string(n) + " bytes of " + what +
                                      ", found " + std::to_string(done));
        done += static_cast<std::size_t>(got);
    }
}

std::size_t element_size(std::uint8_t type) {
    switch (type) {
        case 0x08: case 0x09: return 1;
        case 0x0B: return 2;
        case 0x0C: case 0x0D: return 4;
        case 0x0E: return 8;
        default: return 0;
    }
}

std::uint64_t big_endian(const unsigned char* p, std::size_t n) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) v = (v << 8) | p[i];
    return v;
}

double decode(std::uint8_t type, const unsigned char* p) {
    switch (type) {
        case 0x08: return p[0];
        case 0x09: return static_cast<std::int8_t>(p[0]);
        case 0x0B: return static_cast<std::int16_t>(static_cast<std::uint16_t>(big_endian(p, 2)));
        case 0x0C: return static_cast<std::int32_t>(static_cast<std::uint32_t>(big_endian(p, 4)));
        case 0x0D: {
            const auto bits = static_cast<std::uint32_t>(big_endian(p, 4));
            float f;
            std::memcpy(&f, &bits, 4);
            return f;
        }
        default: {
            const std::uint64_t bits = big_endian(p, 8);
            double d;
            std::memcpy(&d, &bits, 8);
            return d;
        }
    }
}

}  // namespace

std::size_t IdxArray::count() const {
    std::size_t n = 1;
    for (auto d : dims) n *= d;
    return n;
}

IdxArray read_idx(const std::string& path) {
    struct stat st {};
    if (stat(path.c_str(), &st) != 0) throw FileError(path, "no such file");
    if (!S_ISREG(st.st_mode)) throw FileError(path, "not a regular file");
    GzHandle f(gzopen(path.c_str(), "rb"));
    if (!f) throw FileError(path, "cannot open for reading");

    unsigned char magic[4];
    read_exact(f.get(), path, magic, 4, "the magic number");
    IdxArray out;
    out.type_code = magic[2];
    const std::size_t esize = element_size(magic[2]);
    if (magic[0] != 0 || magic[1] != 0 || esize == 0 || magic[3] == 0) {
        char hex[16];
        std::snprintf(hex, sizeof hex, "0x%02X%02X%02X%02X", magic[0], magic[1], magic[2], magic[3]);
        throw FileError(path, std::string("not an IDX file: bad magic number ") + hex +
                                  " (expected 0x0000TTDD: two zero bytes, a type code 08/09/0B/0C/0D/0E and the "
                                  "number of dimensions)");
    }
    const std::size_t ndims = magic[3];
    std::vector<unsigned char> header(4 * ndims);
    read_exact(f.get(), path, header.data(), header.size(), "the dimension sizes");
    std::size_t count = 1;
    for (std::size_t i = 0; i < ndims; ++i) {
        const std::size_t d = big_endian(&header[4 * i], 4);
        out.dims.push_back(d);
        if (d != 0 && count > (std::size_t{1} << 40) / d) throw FileError(path, "IDX dimensions too large");
        count *= d;
    }
    // Read in chunks, so that memory follows the data actually present: a header that claims more
    // than the file holds ends in a "truncated" error, not in an allocation of what it claims.
    const std::size_t total = count * esize;
    constexpr std::size_t chunk = std::size_t{1} << 24;
    std::vector<unsigned char> raw;
    while (raw.size() < total) {
        const std::size_t done = raw.size(), n = std::min(chunk, total - done);
        raw.resize(done + n);
        const int got = gzread(f.get(), raw.data() + done, static_cast<unsigned>(n));
        if (got < 0) {
            int err = 0;
            const char* msg = gzerror(f.get(), &err);
            throw FileError(path, std::string("cannot read the data: ") + (msg ? msg : "zlib error"));
        }
        raw.resize(done + static_cast<std::size_t>(got));
        if (static_cast<std::size_t>(got) < n)
            throw FileError(path, "truncated IDX file: its header declares " + std::to_string(total) +
                                      " bytes of data, the file holds " + std::to_string(raw.size()));
    }
    out.values.resize(count);
    for (std::size_t i = 0; i < count; ++i) {
        out.values[i] = decode(out.type_code, &raw[i * esize]);
        if (!std::isfinite(out.values[i]))
            throw FileError(path, "value " + std::to_string(i) + " is not finite (" + std::to_string(out.values[i]) + ")");
    }
    unsigned char extra;
    if (gzread(f.get(), &extra, 1) > 0) throw FileError(path, "IDX file has trailing bytes after the data its header declares");
    return out;
}

void write_idx_u8(const std::string& path, const std::vector<std::size_t>& dims, const std::vector<std::uint8_t>& data) {
    const bool gz = path.size() > 3 && path.compare(path.size() - 3, 3, ".gz") == 0;
    GzHandle f(gzopen(path.c_str(), gz ? "wb6" : "wbT"));
    if (!f) throw FileError(path, "cannot open for writing");
    std::vector<unsigned char> header = {0, 0, 0x08, static_cast<unsigned char>(dims.size())};
    for (auto d : dims)
        for (int s = 24; s >= 0; s -= 8) header.push_back(static_cast<unsigned char>(d >> s));
    if (gzwrite(f.get(), header.data(), static_cast<unsigned>(header.size())) != static_cast<int>(header.size()) ||
        (!data.empty() && gzwrite(f.get(), data.data(), static_cast<unsigned>(data.size())) != static_cast<int>(data.size())))
        throw FileError(path, "write failed");
}

}  // namespace settle::mlp
