#include "sim/random.hpp"

#include <cmath>
#include <stdexcept>

#include <Random123/philox.h>

namespace settle {

std::uint32_t stable_key(std::string_view name) {
    std::uint32_t h = 2166136261u;
    for (unsigned char c : name) {
        h ^= c;
        h *= 16777619u;
    }
    return h;
}

CounterRng::CounterRng(std::uint64_t seed, std::uint32_t owner_key, std::uint32_t node, StreamKind kind,
                       std::uint64_t counter)
    : key_{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)},
      node_(node),
      owner_(owner_key),
      stream_bits_(static_cast<std::uint64_t>(kind) << 56),
      counter_(counter) {}

void CounterRng::refill() {
    if (counter_ >= (std::uint64_t{1} << 56)) throw std::overflow_error("random stream exhausted (2^56 blocks)");
    using Philox = r123::Philox4x32;
    const std::uint64_t c = stream_bits_ | counter_;
    Philox::ctr_type ctr = {{static_cast<std::uint32_t>(c), static_cast<std::uint32_t>(c >> 32), node_, owner_}};
    Philox::key_type key = {{key_[0], key_[1]}};
    const auto out = Philox()(ctr, key);
    for (int i = 0; i < 4; ++i) buffer_[i] = out.v[i];
    ++counter_;
    used_ = 0;
}

double CounterRng::normal() {
    // Box-Muller: two uniforms per normal keeps the stream position independent of caching.
    const double u1 = uniform();
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

std::uint64_t CounterRng::below(std::uint64_t n) {
    if (n == 0) throw std::invalid_argument("CounterRng::below(0)");
    // 53-bit uniform scaled: exact enough for any n far below 2^53 (node counts, indices).
    const auto k = static_cast<std::uint64_t>(uniform() * static_cast<double>(n));
    return k < n ? k : n - 1;
}

}  // namespace settle
