#pragma once
// The kernel's event queue: a calendar queue (Brown 1988) ordered by (time, class, a, b).
//
// The order is total and depends only on event contents, never on insertion order, so the
// processing order (and with it every result) is the same however events were scheduled.
// At equal times, deliveries (class 0) come before emission candidates (class 1), which come
// before state samples (class 2), which come before replica sync points (class 3): a sample sees
// every input that arrived at its instant but not the weight changes applied at it (rebase points,
// class 4, only change how states are represented), and a
// zero-delay spike reaches its targets before any of them resolves a candidate at that instant.
//
// Layout: time is cut into buckets of `bucket_width` ms; a ring of `bucket_count` buckets holds
// the near future as unsorted vectors (push is O(1)), events beyond the ring wait in a binary
// heap. The open bucket is sorted once when it is reached; events pushed into it after that go
// to a small heap, and pop() takes the smaller of the two fronts. Times are continuous: buckets
// only group events, they never round them.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <stdexcept>
#include <vector>

#include "sim/types.hpp"

namespace settle {

enum class EventClass : std::uint32_t { delivery = 0, candidate = 1, sample = 2, sync = 3, rebase = 4 };

struct Event {
    time_ms t;
    EventClass cls;
    std::uint32_t a;  // delivery: projection; candidate: population; sample: probe; sync: 0
    std::uint64_t b;  // delivery: delay group; candidate: node; sample: step index; sync: index
};

inline bool operator>(const Event& x, const Event& y) {
    if (x.t != y.t) return x.t > y.t;
    if (x.cls != y.cls) return x.cls > y.cls;
    if (x.a != y.a) return x.a > y.a;
    return x.b > y.b;
}

class EventQueue {
public:
    // bucket_count must be a power of two (a slot is then a mask, not a division).
    explicit EventQueue(time_ms bucket_width = 0.025, std::size_t bucket_count = 16384)
        : width_(bucket_width), inverse_width_(1.0 / bucket_width), count_(bucket_count), buckets_(bucket_count) {
        if (bucket_count == 0 || (bucket_count & (bucket_count - 1)) != 0)
            throw std::invalid_argument("EventQueue: bucket_count must be a power of two");
    }

    // Events at or after the horizon never happen: they are dropped here. Invariant relied on by
    // bucket_of(): every queued time is below the horizon, so its bucket index fits in 64 bits
    // (a delay of 1e300 ms once overflowed it and ended runs early).
    static constexpr time_ms horizon = 1e15;  // ms, about 31,700 years

    void push(const Event& e) {
        if (!(e.t < horizon)) return;
        ++size_;
        const std::int64_t k = bucket_of(e.t);
        if (k <= open_) {
            late_.push_back(e);
            std::push_heap(late_.begin(), late_.end(), std::greater<Event>{});
        } else if (k < open_ + static_cast<std::int64_t>(count_)) {
            std::vector<Event>& bucket = buckets_[slot(k)];
            if (bucket.capacity() == 0 && !spare_.empty()) {
                bucket.swap(spare_.back());
                spare_.pop_back();
            }
            bucket.push_back(e);
            ++in_ring_;
        } else {
            far_.push_back(e);
            std::push_heap(far_.begin(), far_.end(), std::greater<Event>{});
        }
    }

    // The earliest event; the queue must not be empty.
    const Event& top() {
        settle_front();
        if (late_.empty()) return sorted_.back();
        if (sorted_.empty()) return late_.front();
        return late_.front() > sorted_.back() ? sorted_.back() : late_.front();
    }

    Event pop() {
        settle_front();
        --size_;
        if (!late_.empty() && (sorted_.empty() || sorted_.back() > late_.front())) {
            std::pop_heap(late_.begin(), late_.end(), std::greater<Event>{});
            const Event e = late_.back();
            late_.pop_back();
            return e;
        }
        const Event e = sorted_.back();
        sorted_.pop_back();
        return e;
    }

    bool empty() const { return size_ == 0; }
    std::size_t size() const { return size_; }

    // The k-th next event of the open bucket (k = 0 is its front), or nullptr: a hint for
    // prefetching the state that event will touch. Events pushed later may come first.
    const Event* peek_ahead(std::size_t k) const {
        return k < sorted_.size() ? &sorted_[sorted_.size() - 1 - k] : nullptr;
    }

private:
    // Any monotone map of time to buckets keeps the order exact (buckets only group events); a
    // product is cheaper than a division. Two's complement: the mask is the modulo for k < 0 too.
    std::int64_t bucket_of(time_ms t) const { return static_cast<std::int64_t>(std::floor(t * inverse_width_)); }
    std::size_t slot(std::int64_t k) const {
        return static_cast<std::size_t>(static_cast<std::uint64_t>(k) & (static_cast<std::uint64_t>(count_) - 1));
    }

    // Opens buckets until the open one (or its late heap) holds an event.
    void settle_front() {
        while (sorted_.empty() && late_.empty()) {
            if (in_ring_ == 0 && !far_.empty())
                open_ = bucket_of(far_.front().t) - 1;  // jump over empty stretches
            ++open_;
            std::vector<Event>& b = buckets_[slot(open_)];
            in_ring_ -= b.size();
            // The drained buffer goes to a small spare pool, not back to the slot: a slot keeping
            // its buffer would make the ring hold the peak of every bucket at once.
            if (sorted_.capacity() > 0 && spare_.size() < max_spare) spare_.push_back(std::move(sorted_));
            sorted_ = std::move(b);
            b = std::vector<Event>{};
            while (!far_.empty() && bucket_of(far_.front().t) <= open_) {
                std::pop_heap(far_.begin(), far_.end(), std::greater<Event>{});
                sorted_.push_back(far_.back());
                far_.pop_back();
            }
            std::sort(sorted_.begin(), sorted_.end(), std::greater<Event>{});
        }
    }

    time_ms width_, inverse_width_;
    std::size_t count_;
    std::vector<std::vector<Event>> buckets_;
    std::vector<Event> sorted_;  // the open bucket, descending: back() is the earliest
    std::vector<Event> late_;    // min-heap: pushed into the open bucket after it was sorted
    std::vector<Event> far_;     // min-heap: beyond the ring
    std::vector<std::vector<Event>> spare_;  // empty buffers for slots that fill up
    static constexpr std::size_t max_spare = 256;
    std::int64_t open_ = std::numeric_limits<std::int64_t>::min() / 2;
    std::size_t in_ring_ = 0;
    std::size_t size_ = 0;
};

}  // namespace settle
