#pragma once
// Declarative parameter tables: a model lists its parameters (name, unit, meaning) once, and
// configuration, validation messages and the docs all use that list.
#include <stdexcept>
#include <string>
#include <vector>

namespace settle {

template <class Params>
struct ParameterInfo {
    const char* name;
    const char* unit;
    const char* meaning;
    double Params::*field;
};

// Sets `name` in `params`; returns false if the model has no such parameter.
template <class Params>
bool set_parameter(Params& params, const std::vector<ParameterInfo<Params>>& table, const std::string& name,
                   double value) {
    for (const auto& info : table)
        if (name == info.name) {
            params.*(info.field) = value;
            return true;
        }
    return false;
}

template <class Params>
std::vector<std::string> parameter_names(const std::vector<ParameterInfo<Params>>& table) {
    std::vector<std::string> names;
    for (const auto& info : table) names.emplace_back(info.name);
    return names;
}

}  // namespace settle
