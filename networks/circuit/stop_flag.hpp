#pragma once
// Stopping a circuit run from inside its loops. A run's stop flag (set on SIGINT, SIGTERM or
// SIGHUP) is checked by every loop that can run long: each integration step of the rate and
// stepped engines, and each kernel advance of the event engine. So an absurd but finite config
// (a time constant of 1e12 ms, a rate of 1e12 Hz, a settling time of 1e300 ms) stays
// interruptible. check() throws Interrupted, which the experiment driver catches: the run then
// ends as an interrupted one (its file flushed and marked so).
#include <atomic>

namespace settle::circuit {

struct Interrupted {};

class StopFlag {
public:
    void set(const std::atomic<bool>* flag) { flag_ = flag; }
    const std::atomic<bool>* get() const { return flag_; }
    bool requested() const { return flag_ && flag_->load(std::memory_order_relaxed); }
    void check() const {
        if (requested()) throw Interrupted{};
    }

private:
    const std::atomic<bool>* flag_ = nullptr;
};

}  // namespace settle::circuit
