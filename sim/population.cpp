#include "sim/population.hpp"

#include <stdexcept>

#include "sim/random.hpp"

namespace settle {

Population::Population(std::string name, std::size_t size)
    : name_(std::move(name)), size_(size), key_(stable_key(name_)) {}

void Population::receive(node_index, time_ms, double, int) {
    throw std::logic_error("population '" + name_ + "' (" + model() + ") accepts no synaptic input");
}

double Population::read(node_index, int element_id, time_ms) {
    throw std::logic_error("population '" + name_ + "' has no state variable with element id " +
                           std::to_string(element_id));
}

void Population::advance_all(time_ms) {}

Population::Candidate Population::draw_candidate(std::size_t) {
    throw std::logic_error("population '" + name_ + "' (" + model() + ") has no predetermined candidates");
}

}  // namespace settle
