#pragma once
// A one-line progress bar on stderr (only when stderr is a terminal): simulated time,
// events per second and time left. Redrawn at most ten times a second.
#include <chrono>
#include <cstdint>
#include <string>

namespace settle {

class ProgressBar {
public:
    // `enabled` false (or stderr not a terminal) makes every call a no-op.
    ProgressBar(bool enabled, double total, std::string unit);
    void update(double done, std::uint64_t events);
    void finish();
    bool active() const { return active_; }

private:
    bool active_;
    double total_;
    std::string unit_;
    std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace settle
