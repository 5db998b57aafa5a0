#pragma once
// The pending candidates of populations whose emission streams are not their nodes (a few streams
// each, such as one per replica): an indexed binary min-heap with one entry per stream, updated in
// place when the stream's next candidate is known or rescheduled.
//
// Why not the calendar queue (event_queue.hpp): such a stream's next candidate is known the moment
// its current one is resolved, and there are few streams, so a replace-and-sift on a small heap
// (log2 of the stream count levels) is cheaper than a push and a later sort in a bucket, and a
// rescheduled stream needs no stale entry. Entries are ordered like the kernel's events of class
// `candidate`: by (time, population, stream), a total order on contents.
#include <cstdint>
#include <utility>
#include <vector>

#include "sim/types.hpp"

namespace settle {

class StreamHeap {
public:
    struct Entry {
        time_ms t;
        std::uint32_t population;
        std::uint64_t stream;
    };

    // Registers `streams` streams of population p, all at `never`; returns nothing. Call before
    // any update(), once per population.
    void add_population(std::uint32_t p, std::size_t streams) {
        if (first_.size() <= p) first_.resize(p + 1, 0);
        first_[p] = index_.size();
        index_.resize(index_.size() + streams);
        for (std::size_t s = 0; s < streams; ++s) {
            index_[first_[p] + s] = heap_.size();
            heap_.push_back({never, p, s});
            sift_up(heap_.size() - 1);
        }
    }
    void clear() {
        heap_.clear();
        index_.clear();
        first_.clear();
    }
    bool empty() const { return heap_.empty(); }
    const Entry& top() const { return heap_.front(); }
    time_ms time_of(std::uint32_t p, std::uint64_t s) const { return heap_[index_[first_[p] + s]].t; }

    // Sets the stream's next candidate time.
    void update(std::uint32_t p, std::uint64_t s, time_ms t) {
        const std::size_t i = index_[first_[p] + s];
        const time_ms old = heap_[i].t;
        heap_[i].t = t;
        if (t < old)
            sift_up(i);
        else
            sift_down(i);
    }

    static bool before(const Entry& x, const Entry& y) {
        return x.t < y.t || (x.t == y.t && (x.population < y.population ||
                                            (x.population == y.population && x.stream < y.stream)));
    }

private:
    void place(std::size_t i, const Entry& e) {
        heap_[i] = e;
        index_[first_[e.population] + e.stream] = i;
    }
    void sift_up(std::size_t i) {
        const Entry e = heap_[i];
        while (i > 0) {
            const std::size_t parent = (i - 1) / 2;
            if (!before(e, heap_[parent])) break;
            place(i, heap_[parent]);
            i = parent;
        }
        place(i, e);
    }
    void sift_down(std::size_t i) {
        const Entry e = heap_[i];
        const std::size_t n = heap_.size();
        while (true) {
            std::size_t child = 2 * i + 1;
            if (child >= n) break;
            if (child + 1 < n && before(heap_[child + 1], heap_[child])) ++child;
            if (!before(heap_[child], e)) break;
            place(i, heap_[child]);
            i = child;
        }
        place(i, e);
    }

    std::vector<Entry> heap_;
    std::vector<std::size_t> index_;  // [first_[population] + stream]: position in heap_
    std::vector<std::size_t> first_;
};

}  // namespace settle
