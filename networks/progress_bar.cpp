#include "networks/progress_bar.hpp"

#include <unistd.h>

#include <cstdio>

namespace settle {

ProgressBar::ProgressBar(bool enabled, double total, std::string unit)
    : active_(enabled && isatty(STDERR_FILENO) != 0),
      total_(total),
      unit_(std::move(unit)),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

void ProgressBar::update(double done, std::uint64_t events) {
    if (!active_) return;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_draw_ < std::chrono::milliseconds(100)) return;
    last_draw_ = now;
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    const double fraction = total_ > 0 ? std::min(1.0, done / total_) : 1.0;
    constexpr int width = 30;
    const int filled = static_cast<int>(fraction * width);
    char bar[width + 1];
    for (int i = 0; i < width; ++i) bar[i] = i < filled ? '#' : '.';
    bar[width] = '\0';
    const double rate = elapsed > 0 ? static_cast<double>(events) / elapsed : 0.0;
    const double left = fraction > 0 ? elapsed * (1.0 - fraction) / fraction : 0.0;
    std::fprintf(stderr, "\r[%s] %5.1f%%  %.0f/%.0f %s  %.2e ev/s  %.0f s left   ", bar, 100.0 * fraction, done,
                 total_, unit_.c_str(), rate, left);
    std::fflush(stderr);
}

void ProgressBar::finish() {
    if (!active_) return;
    std::fprintf(stderr, "\r%*s\r", 100, "");
    std::fflush(stderr);
}

}  // namespace settle
