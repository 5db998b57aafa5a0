#pragma once
// Counter-based random numbers for the MLP learners (Philox4x32-10, Random123).
//
// A stream is (seed, purpose, a, b): e.g. the corruption noise of mini-batch b of epoch a. A
// number depends only on its stream and position, never on thread count or on what else was
// drawn, so a run is reproducible for a fixed seed.
#include <cmath>
#include <cstdint>

#include <Random123/philox.h>

namespace settle::mlp {

enum class Purpose : std::uint32_t {
    init_forward = 1,   // forward weights
    init_inverse = 2,   // inverse weights (TP, DTP)
    init_feedback = 3,  // fixed feedback matrices (FA)
    shuffle = 4,        // mini-batch order
    noise = 5,          // corruption noise for inverse training
    test = 6,           // tests and synthetic data
};

class Rng {
public:
    Rng(std::uint64_t seed, Purpose purpose, std::uint32_t a = 0, std::uint32_t b = 0)
        : key_{{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)}},
          ctr_{{0, static_cast<std::uint32_t>(purpose), a, b}} {}

    std::uint32_t next_u32() {
        if (used_ == 4) {
            out_ = r123::Philox4x32()(ctr_, key_);
            ++ctr_.v[0];
            used_ = 0;
        }
        return out_.v[used_++];
    }
    // Uniform on (0, 1), 53 bits.
    double uniform() {
        const std::uint64_t hi = next_u32() >> 5;
        const std::uint64_t lo = next_u32() >> 6;
        return (static_cast<double>((hi << 26) | lo) + 0.5) * 0x1.0p-53;
    }
    double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
    // Standard normal (Box-Muller, both values used).
    double normal() {
        if (have_spare_) {
            have_spare_ = false;
            return spare_;
        }
        const double r = std::sqrt(-2.0 * std::log(uniform()));
        const double phi = 2.0 * M_PI * uniform();
        spare_ = r * std::sin(phi);
        have_spare_ = true;
        return r * std::cos(phi);
    }
    // Uniform integer in [0, n), n > 0.
    std::uint64_t below(std::uint64_t n) {
        const auto k = static_cast<std::uint64_t>(uniform() * static_cast<double>(n));
        return k < n ? k : n - 1;
    }

private:
    r123::Philox4x32::key_type key_;
    r123::Philox4x32::ctr_type ctr_;
    r123::Philox4x32::ctr_type out_{};
    int used_ = 4;
    double spare_ = 0.0;
    bool have_spare_ = false;
};

}  // namespace settle::mlp
