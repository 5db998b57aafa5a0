#pragma once
// Counter-based random numbers (Philox4x32-10, Random123).
//
// A stream is identified by (seed, owner key, node, stream kind) and a 56-bit counter, so every
// number a node draws depends only on those, never on the order in which the kernel processes
// events, on other populations, or (later) on the number of threads or ranks. Owner keys are
// hashes of population/projection names, not indices, so adding an unrelated population changes
// nothing in the others.
#include <cmath>
#include <cstdint>
#include <string_view>

#include "sim/types.hpp"

namespace settle {

// Stable 32-bit FNV-1a hash of a name: the owner key of a population's or projection's streams.
std::uint32_t stable_key(std::string_view name);

enum class StreamKind : std::uint8_t {
    emission = 0,      // spike candidate times and acceptance draws
    connectivity = 1,  // which connections exist
    weights = 2,       // initial weights
    delays = 3,        // initial delays
    state = 4,         // initial state
    data = 5,          // anything an experiment draws (sample order, frozen patterns, ...)
    background = 6,    // neuron-local Poisson input arrivals
};

class CounterRng {
public:
    CounterRng(std::uint64_t seed, std::uint32_t owner_key, std::uint32_t node, StreamKind kind,
               std::uint64_t counter = 0);

    // Inline: every emission candidate draws from here (the kernel's hottest path).
    std::uint32_t next_u32() {
        if (used_ == 4) refill();
        return buffer_[used_++];
    }
    // Uniform on the open interval (0, 1), 53 bits.
    double uniform() {
        const std::uint32_t first = next_u32();
        return to_uniform(first, next_u32());
    }
    // What the next uniform() will return when its bits are already in the buffer (no block to
    // compute), without drawing it; -1 otherwise. For prefetching what the next draw will touch:
    // it never changes the stream.
    double peek_uniform() const { return used_ > 2 ? -1.0 : to_uniform(buffer_[used_], buffer_[used_ + 1]); }
    // Exponential with the given rate (mean 1/rate).
    double exponential(double rate) { return -std::log(uniform()) / rate; }
    double normal();
    // Uniform integer in [0, n).
    std::uint64_t below(std::uint64_t n);
    // Number of 4x32 blocks consumed: saving it and constructing with it resumes the stream.
    std::uint64_t counter() const { return counter_; }

private:
    // 27 bits of the first word and 26 of the second: a uniform on (0, 1), never 0, never 1.
    static double to_uniform(std::uint32_t first, std::uint32_t second) {
        const std::uint64_t bits = (std::uint64_t{first >> 5} << 26) | (second >> 6);  // 53 bits
        return (static_cast<double>(bits) + 0.5) * 0x1.0p-53;
    }
    void refill();
    std::uint32_t key_[2];
    std::uint32_t node_;
    std::uint32_t owner_;
    std::uint64_t stream_bits_;
    std::uint64_t counter_;
    std::uint32_t buffer_[4];
    int used_ = 4;
};

}  // namespace settle
