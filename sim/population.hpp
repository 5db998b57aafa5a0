#pragma once
// A population: a group of nodes of one kind (a neuron model, a spike source).
//
// The kernel drives every population through this interface and knows no specific model.
// Protocol, per node:
//  - receive(): a synaptic input arrives (time never decreases for a given node);
//  - next_candidate() / resolve_candidate(): the node's emission process. The candidate times
//    are drawn from a process that does not depend on the node's state (e.g. thinning at the
//    bound phi_max), so they can be scheduled ahead; resolve_candidate() advances the node to
//    the candidate time and says whether it really emits.
//  - read(): advance lazily to t and report a state variable (recorders, end of run).
// A node's state is advanced only at these calls ("lazy" advance): nothing is stepped.
//
// Emission streams, channels and replicas (for populations that are more than independent nodes,
// such as the learning circuit's layers): a population may draw its candidates from a few
// streams instead of one per node (e.g. one stream per replica at the summed candidate rate,
// with a counter-based draw of the unit), and a unit may emit on several channels at one
// candidate (e.g. a somatic and a prediction channel sharing their acceptance draw). The kernel
// then asks emission_streams() / next_stream_candidate() / resolve_stream(). Node ids stay flat:
//     node = (replica * channels() + channel) * units() + unit,
// so the SONATA spike file and CSR projections see ordinary nodes. By default a population has
// one stream per node, one channel and one replica, and node = stream = unit.
#include <cstdint>
#include <string>
#include <vector>

#include "sim/types.hpp"

namespace settle {

struct StateVariable {
    std::string name;   // e.g. "U"
    std::string unit;   // e.g. "mV"
    int element_id;     // stable id in SONATA reports (see docs/file-format.md)
};

class Population {
public:
    Population(std::string name, std::size_t size);
    virtual ~Population() = default;
    Population(const Population&) = delete;
    Population& operator=(const Population&) = delete;

    const std::string& name() const { return name_; }
    std::size_t size() const { return size_; }
    // Key of this population's random streams (hash of its name).
    std::uint32_t key() const { return key_; }

    // Model name as written in configs ("urbanczik_senn", "poisson_source", ...).
    virtual std::string model() const = 0;

    // Called once before the run; draws initial state and first candidates from `seed`.
    virtual void initialize(std::uint64_t seed, time_ms t_start) = 0;

    // Receptor ports for incoming projections ("dendrite", "soma_exc", ...). Empty: accepts none.
    virtual std::vector<std::string> receptors() const { return {}; }
    virtual void receive(node_index node, time_ms t, double weight, int receptor);

    // Emission process (see above). `never` when the node will not emit again.
    virtual time_ms next_candidate(node_index /*node*/) const { return never; }
    virtual bool resolve_candidate(node_index /*node*/, time_ms /*t*/) { return false; }

    // Layout of the node ids (see above).
    virtual std::uint32_t channels() const { return 1; }
    virtual std::uint32_t replicas() const { return 1; }
    std::size_t units() const { return size() / (std::size_t{channels()} * replicas()); }
    node_index node_id(std::uint32_t replica, std::uint32_t channel, node_index unit) const {
        return static_cast<node_index>((std::size_t{replica} * channels() + channel) * units() + unit);
    }

    // What one resolved candidate emitted: `unit` of `replica`, channel c spiking iff bit c of
    // `channel_mask` is set (0: nothing; `unit` is then still the candidate's unit).
    struct Emission {
        node_index unit = 0;
        std::uint32_t replica = 0;
        std::uint32_t channel_mask = 0;
    };
    // Streams of candidates (default: one per node, through the per-node calls above).
    virtual bool streams_are_nodes() const { return true; }
    virtual std::size_t emission_streams() const { return size(); }
    virtual time_ms next_stream_candidate(std::size_t stream) const {
        return next_candidate(static_cast<node_index>(stream));
    }
    virtual Emission resolve_stream(std::size_t stream, time_ms t) {
        const auto node = static_cast<node_index>(stream);
        return {node, 0, resolve_candidate(node, t) ? 1u : 0u};
    }
    // Predetermined candidates: a source whose candidates depend on no state and whose streams
    // are never rescheduled (poisson_source) may let the kernel draw them ahead of time, in the
    // kernel's order, to prefetch what each will touch (Simulator, "lookahead lane").
    // draw_candidate(stream) returns the stream's pending candidate (at next_stream_candidate)
    // and draws the one after it; accept(c), called at c.t, decides whether it is a spike, so it
    // may depend on what a driver changed in between (a rate). Invariant: resolve_stream(s, t)
    // draws exactly what draw_candidate(s) then accept() do, so the lane changes no result.
    struct Candidate {
        time_ms t = never;
        node_index unit = 0;
        double u = 0.0;  // the acceptance draw, when the population makes one
    };
    virtual bool candidates_are_predetermined() const { return false; }
    virtual Candidate draw_candidate(std::size_t /*stream*/);
    virtual bool accept(const Candidate& /*c*/) { return true; }
    // Re-expresses replica `replica`'s state relative to t (nothing observable changes). Called
    // by a driver at times fixed by its schedule, never by recording, so results do not depend
    // on it beyond rounding that is the same in every run.
    virtual void rebase(std::uint32_t /*replica*/, time_ms /*t*/) {}

    // Recordable state.
    virtual std::vector<StateVariable> state_variables() const { return {}; }
    virtual double read(node_index node, int element_id, time_ms t);
    // Brings every node to t (end of run, before reading final state).
    virtual void advance_all(time_ms t);
    // A hint that `node` will soon be touched: the kernel calls it a few events ahead so that
    // large populations' state arrives in cache in time. Must not change anything.
    virtual void prefetch(node_index /*node*/) const {}

private:
    std::string name_;
    std::size_t size_;
    std::uint32_t key_;
};

}  // namespace settle
