#pragma once
// Typed, strict reading of TOML configuration tables.
//
// Every key a reader asks for is marked as used; `finish()` then rejects any key that was never
// asked for, with a "did you mean" suggestion, so misspelled keys never pass silently.
// Errors are settle::ConfigError naming the dotted key path and the offending value.
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <toml.hpp>

#include "sim/error.hpp"

namespace settle {

using toml_value = toml::value;

// Reads a TOML file; a missing or malformed file is a FileError naming it.
toml_value read_toml_file(const std::string& path);

// Applies a `--set key=value` override. The key is a dotted path; a segment that meets an array
// of tables selects the element whose `name` equals it (or a numeric index). The value is parsed
// as a TOML value, falling back to a plain string.
void apply_override(toml_value& root, const std::string& assignment);

// Closest candidate by edit distance, or "" when nothing is reasonably close.
std::string closest_match(const std::string& word, const std::vector<std::string>& candidates);

// A record of every key the readers asked for, with the default the code uses when the key is
// absent and the value in effect. `settle keys` prints it, and the docs drift test compares
// docs/config.md with it, so a default is written in the code once and checked in the docs.
struct KeyRecord {
    std::string path;      // dotted key, e.g. "circuit.eta_hidden"
    std::string fallback;  // the default as TOML text; "" when the key is required
    std::string value;     // the value in effect, as TOML text
    bool set = false;      // true when the config gave the key
    std::string unit;      // a parameter table's (describe()), else the key's suffix: _ms ms, _hz Hz, _s s, _rad rad
    std::string meaning;
    const toml_value* node = nullptr;  // the value read, inside the config document (null when absent)
};

// While one of these lives, every ConfigTable read on this thread is appended to `records`.
class ScopedKeyLog {
public:
    ScopedKeyLog();
    ~ScopedKeyLog();
    ScopedKeyLog(const ScopedKeyLog&) = delete;
    ScopedKeyLog& operator=(const ScopedKeyLog&) = delete;
    std::vector<KeyRecord> records;

private:
    ScopedKeyLog* previous_;
};

class ConfigTable {
public:
    ConfigTable(const toml_value& table, std::string path);

    const std::string& path() const { return path_; }
    bool has(const std::string& key) const;

    double get_double(const std::string& key, double fallback);
    double require_double(const std::string& key);
    std::int64_t get_int(const std::string& key, std::int64_t fallback);
    std::int64_t require_int(const std::string& key);
    bool get_bool(const std::string& key, bool fallback);
    std::string get_string(const std::string& key, const std::string& fallback);
    std::string require_string(const std::string& key);
    // A string that must be one of `choices`.
    std::string get_choice(const std::string& key, const std::string& fallback,
                           const std::vector<std::string>& choices);
    std::vector<double> get_double_array(const std::string& key, std::vector<double> fallback = {});
    std::vector<std::int64_t> get_int_array(const std::string& key, std::vector<std::int64_t> fallback = {});
    std::vector<std::string> get_string_array(const std::string& key, std::vector<std::string> fallback = {});

    std::optional<ConfigTable> table(const std::string& key);
    std::vector<ConfigTable> tables(const std::string& key);  // array of tables; empty if absent
    // The raw value, for readers that interpret it themselves (marked as used).
    const toml_value* raw(const std::string& key);

    // Marks keys as used without reading them (e.g. keys a sibling reader consumes).
    void ignore(const std::string& key);
    // Attaches a unit and a meaning to the key's entry in the active key log (no effect otherwise):
    // readers that take their keys from a parameter table (sim/parameters.hpp) pass them on, so
    // `settle keys` and the docs drift test see them.
    void describe(const std::string& key, const std::string& unit, const std::string& meaning) const;
    // Throws ConfigError for the first key never asked for.
    void finish() const;

    // Error helpers naming this table's key.
    [[noreturn]] void fail(const std::string& key, const std::string& message) const;
    std::string key_path(const std::string& key) const;

private:
    const toml_value& lookup(const std::string& key);
    void log(const std::string& key, const std::string& fallback, const std::string& value) const;
    // The typed reads without logging; the public get_/require_ functions log what they return.
    double read_double(const std::string& key, double fallback);
    std::int64_t read_int(const std::string& key, std::int64_t fallback);
    std::string read_string(const std::string& key, const std::string& fallback);
    std::vector<std::int64_t> read_int_array(const std::string& key, const std::vector<std::int64_t>& fallback);
    std::vector<std::string> read_string_array(const std::string& key, const std::vector<std::string>& fallback);
    const toml_value* table_;
    std::string path_;
    std::set<std::string> used_;   // keys read
    std::set<std::string> asked_;  // keys a reader looked for, present or not: the vocabulary for suggestions
};

// Refuses, naming the key, a config whose `count` items of `bytes_each` need more than half of
// the memory this process may use (min of physical memory and RLIMIT_AS), before anything is
// allocated.
void require_fits_in_memory(const ConfigTable& t, const std::string& key, double count, double bytes_each, const char* what);

// Range checks that name the key and value on failure.
double require_positive(const ConfigTable& t, const std::string& key, double value);
double require_non_negative(const ConfigTable& t, const std::string& key, double value);
double require_probability(const ConfigTable& t, const std::string& key, double value);

}  // namespace settle
