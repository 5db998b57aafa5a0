#pragma once
#include <cstdint>
#include <limits>

namespace settle {

// Simulated time in milliseconds. The kernel has no global time step: every event carries its
// own continuous time.
using time_ms = double;
inline constexpr time_ms never = std::numeric_limits<double>::infinity();

using node_index = std::uint32_t;  // index of a node within its population

}  // namespace settle
