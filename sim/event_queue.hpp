#pragma once
// The kernel's event queue: a binary min-heap ordered by (time, class, a, b).
//
// The order is total and depends only on event contents, never on insertion order, so the
// processing order (and with it every result) is the same however events were scheduled.
// At equal times, deliveries (class 0) come before emission candidates (class 1), which come
// before state samples (class 2): a sample sees every input that arrived at its instant, and a
// zero-delay spike reaches its targets before any of them resolves a candidate at that instant.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "sim/types.hpp"

namespace settle {

enum class EventClass : std::uint32_t { delivery = 0, candidate = 1, sample = 2 };

struct Event {
    time_ms t;
    EventClass cls;
    std::uint32_t a;  // delivery: projection; candidate: population; sample: probe
    std::uint64_t b;  // delivery: delay group; candidate: node; sample: step index
};

inline bool operator>(const Event& x, const Event& y) {
    if (x.t != y.t) return x.t > y.t;
    if (x.cls != y.cls) return x.cls > y.cls;
    if (x.a != y.a) return x.a > y.a;
    return x.b > y.b;
}

class EventQueue {
public:
    void push(const Event& e) {
        heap_.push_back(e);
        std::push_heap(heap_.begin(), heap_.end(), std::greater<Event>{});
    }
    const Event& top() const { return heap_.front(); }
    Event pop() {
        std::pop_heap(heap_.begin(), heap_.end(), std::greater<Event>{});
        const Event e = heap_.back();
        heap_.pop_back();
        return e;
    }
    bool empty() const { return heap_.empty(); }
    std::size_t size() const { return heap_.size(); }
    void reserve(std::size_t n) { heap_.reserve(n); }

private:
    std::vector<Event> heap_;
};

}  // namespace settle
