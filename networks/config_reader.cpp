#include "networks/config_reader.hpp"

#include <cmath>
#include <cstdio>

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace settle {

toml_value read_toml_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw FileError(path, "cannot open config file");
    try {
        return toml::parse(in, path);
    } catch (const toml::syntax_error& e) {
        // toml11 messages span several lines; keep the first meaningful one.
        std::string what = e.what();
        std::replace(what.begin(), what.end(), '\n', ' ');
        throw FileError(path, "TOML syntax error: " + what);
    }
}

namespace {

std::size_t edit_distance(const std::string& a, const std::string& b) {
    std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t subst = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, subst});
        }
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

std::string type_name(const toml_value& v) {
    std::ostringstream os;
    os << v.type();
    return os.str();
}

std::string show(const toml_value& v) {
    std::ostringstream os;
    os << v;
    std::string s = os.str();
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    if (s.size() > 60) s = s.substr(0, 57) + "...";
    return s;
}

toml_value parse_value(const std::string& text) {
    try {
        std::istringstream in("v = " + text);
        const auto doc = toml::parse(in, "--set");
        return toml::find(doc, "v");
    } catch (const std::exception&) {
        return toml_value(text);  // an unquoted word is taken as a string
    }
}

}  // namespace

std::string closest_match(const std::string& word, const std::vector<std::string>& candidates) {
    std::string best;
    std::size_t best_d = std::max<std::size_t>(2, word.size() / 3) + 1;
    for (const auto& c : candidates) {
        const std::size_t d = edit_distance(word, c);
        if (d < best_d) {
            best_d = d;
            best = c;
        }
    }
    return best;
}

void apply_override(toml_value& root, const std::string& assignment) {
    const auto eq = assignment.find('=');
    if (eq == std::string::npos || eq == 0)
        throw ConfigError("--set", "expected key=value, got '" + assignment + "'");
    const std::string key = assignment.substr(0, eq);
    const std::string text = assignment.substr(eq + 1);
    std::vector<std::string> parts;
    std::stringstream ss(key);
    for (std::string part; std::getline(ss, part, '.');) {
        if (part.empty()) throw ConfigError("--set", "empty segment in key '" + key + "'");
        parts.push_back(part);
    }
    toml_value* node = &root;
    std::string walked;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        const std::string& part = parts[i];
        walked += (walked.empty() ? "" : ".") + part;
        const bool last = i + 1 == parts.size();
        if (node->is_array()) {
            auto& arr = node->as_array();
            toml_value* found = nullptr;
            std::vector<std::string> names;
            for (std::size_t k = 0; k < arr.size(); ++k) {
                if (std::to_string(k) == part) found = &arr[k];
                if (!arr[k].is_table()) continue;
                const auto& el = arr[k];
                if (el.contains("name") && el.at("name").is_string()) {
                    names.push_back(el.at("name").as_string().str);
                } else if (el.contains("source") && el.contains("target") && el.at("source").is_string() &&
                           el.at("target").is_string()) {
                    // An unnamed projection answers to its default name "source->target".
                    names.push_back(el.at("source").as_string().str + "->" + el.at("target").as_string().str);
                } else {
                    continue;
                }
                if (names.back() == part) found = &arr[k];
            }
            if (!found) {
                std::string hint = closest_match(part, names);
                throw ConfigError(walked, "no element named '" + part + "'" +
                                              (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
            }
            if (last) {
                *found = parse_value(text);
                return;
            }
            node = found;
            continue;
        }
        if (!node->is_table()) throw ConfigError(walked, "is not a table, cannot set a key below it");
        auto& table = node->as_table();
        if (last) {
            table[part] = parse_value(text);
            return;
        }
        if (!table.count(part)) table[part] = toml::table{};
        node = &table[part];
    }
}

namespace {

thread_local ScopedKeyLog* active_key_log = nullptr;

// Doubles with 12 significant digits: enough to tell defaults apart (1/3 prints as 0.333333333333),
// short enough to read.
std::string toml_text(double x) {
    if (std::isnan(x)) return "nan";
    if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.12g", x);
    std::string text = buf;
    if (text.find_first_of(".en") == std::string::npos) text += ".0";  // TOML: a float keeps its point
    return text;
}
std::string toml_text(std::int64_t x) { return show(toml_value(x)); }
std::string toml_text(bool x) { return x ? "true" : "false"; }
std::string toml_text(const std::string& x) { return show(toml_value(x)); }
template <class T>
std::string toml_text(const std::vector<T>& xs) {
    std::string out = "[";
    for (const auto& x : xs) out += (out.size() > 1 ? ", " : "") + toml_text(x);
    return out + "]";
}

// TOML admits nan and inf; no key of settle's means either, so a non-finite number is an error.
double checked_finite(const ConfigTable& t, const std::string& key, double x) {
    if (!std::isfinite(x)) t.fail(key, "must be a finite number, got " + toml_text(x));
    return x;
}

}  // namespace

ScopedKeyLog::ScopedKeyLog() : previous_(active_key_log) { active_key_log = this; }
ScopedKeyLog::~ScopedKeyLog() { active_key_log = previous_; }

void ConfigTable::log(const std::string& key, const std::string& fallback, const std::string& value) const {
    if (active_key_log == nullptr) return;
    // settle's keys name their unit when it is not a parameter table's (tau_ms, rate_hz, ...).
    static const std::pair<const char*, const char*> suffixes[] = {{"_ms", "ms"}, {"_hz", "Hz"}, {"_s", "s"}, {"_rad", "rad"}};
    std::string unit;
    for (const auto& [suffix, u] : suffixes) {
        const std::string_view s(suffix);
        if (key.size() > s.size() && key.compare(key.size() - s.size(), s.size(), s) == 0) {
            unit = u;
            break;
        }
    }
    const toml_value* node = has(key) ? &table_->as_table().at(key) : nullptr;
    active_key_log->records.push_back(KeyRecord{key_path(key), fallback, value, has(key), unit, "", node});
}

ConfigTable::ConfigTable(const toml_value& table, std::string path) : table_(&table), path_(std::move(path)) {
    if (!table.is_table()) throw ConfigError(path_, "expected a table, got " + type_name(table));
}

std::string ConfigTable::key_path(const std::string& key) const {
    return path_.empty() ? key : path_ + "." + key;
}

void ConfigTable::fail(const std::string& key, const std::string& message) const {
    throw ConfigError(key_path(key), message);
}

bool ConfigTable::has(const std::string& key) const { return table_->as_table().count(key) != 0; }

const toml_value& ConfigTable::lookup(const std::string& key) {
    used_.insert(key);
    return table_->as_table().at(key);
}

const toml_value* ConfigTable::raw(const std::string& key) {
    asked_.insert(key);
    if (!has(key)) return nullptr;
    const toml_value& v = lookup(key);
    log(key, "", show(v));
    return &v;
}

void ConfigTable::ignore(const std::string& key) { used_.insert(key); }

void ConfigTable::describe(const std::string& key, const std::string& unit, const std::string& meaning) const {
    if (active_key_log == nullptr) return;
    const std::string path = key_path(key);
    for (auto it = active_key_log->records.rbegin(); it != active_key_log->records.rend(); ++it)
        if (it->path == path) {
            it->unit = unit;
            it->meaning = meaning;
            return;
        }
}

double ConfigTable::get_double(const std::string& key, double fallback) {
    const double value = read_double(key, fallback);
    log(key, toml_text(fallback), toml_text(value));
    return value;
}

double ConfigTable::read_double(const std::string& key, double fallback) {
    asked_.insert(key);
    if (!has(key)) return fallback;
    const auto& v = lookup(key);
    if (v.is_floating()) return checked_finite(*this, key, v.as_floating());
    if (v.is_integer()) return static_cast<double>(v.as_integer());
    fail(key, "expected a number, got " + type_name(v) + " " + show(v));
}

double ConfigTable::require_double(const std::string& key) {
    if (!has(key)) fail(key, "required key is missing");
    const double value = read_double(key, 0.0);
    log(key, "", toml_text(value));
    return value;
}

std::int64_t ConfigTable::get_int(const std::string& key, std::int64_t fallback) {
    const std::int64_t value = read_int(key, fallback);
    log(key, toml_text(fallback), toml_text(value));
    return value;
}

std::int64_t ConfigTable::read_int(const std::string& key, std::int64_t fallback) {
    asked_.insert(key);
    if (!has(key)) return fallback;
    const auto& v = lookup(key);
    if (v.is_integer()) return v.as_integer();
    fail(key, "expected an integer, got " + type_name(v) + " " + show(v));
}

std::int64_t ConfigTable::require_int(const std::string& key) {
    if (!has(key)) fail(key, "required key is missing");
    const std::int64_t value = read_int(key, 0);
    log(key, "", toml_text(value));
    return value;
}

bool ConfigTable::get_bool(const std::string& key, bool fallback) {
    asked_.insert(key);
    bool value = fallback;
    if (has(key)) {
        const auto& v = lookup(key);
        if (!v.is_boolean()) fail(key, "expected true or false, got " + type_name(v) + " " + show(v));
        value = v.as_boolean();
    }
    log(key, toml_text(fallback), toml_text(value));
    return value;
}

std::string ConfigTable::get_string(const std::string& key, const std::string& fallback) {
    const std::string value = read_string(key, fallback);
    log(key, toml_text(fallback), toml_text(value));
    return value;
}

std::string ConfigTable::read_string(const std::string& key, const std::string& fallback) {
    asked_.insert(key);
    if (!has(key)) return fallback;
    const auto& v = lookup(key);
    if (v.is_string()) return v.as_string();
    fail(key, "expected a string, got " + type_name(v) + " " + show(v));
}

std::string ConfigTable::require_string(const std::string& key) {
    if (!has(key)) fail(key, "required key is missing");
    const std::string value = read_string(key, "");
    log(key, "", toml_text(value));
    return value;
}

std::string ConfigTable::get_choice(const std::string& key, const std::string& fallback,
                                    const std::vector<std::string>& choices) {
    const std::string value = get_string(key, fallback);
    if (std::find(choices.begin(), choices.end(), value) != choices.end()) return value;
    std::string list;
    for (const auto& c : choices) list += (list.empty() ? "" : ", ") + c;
    const std::string hint = closest_match(value, choices);
    fail(key, "unknown value '" + value + "'" + (hint.empty() ? "" : " (did you mean '" + hint + "'?)") +
                  "; expected one of: " + list);
}

std::vector<double> ConfigTable::get_double_array(const std::string& key, std::vector<double> fallback) {
    asked_.insert(key);
    if (!has(key)) {
        log(key, toml_text(fallback), toml_text(fallback));
        return fallback;
    }
    const auto& v = lookup(key);
    if (!v.is_array()) fail(key, "expected an array of numbers, got " + type_name(v));
    std::vector<double> out;
    for (const auto& e : v.as_array()) {
        if (e.is_floating()) out.push_back(checked_finite(*this, key, e.as_floating()));
        else if (e.is_integer()) out.push_back(static_cast<double>(e.as_integer()));
        else fail(key, "expected an array of numbers, found element " + show(e));
    }
    log(key, toml_text(fallback), toml_text(out));
    return out;
}

std::vector<std::int64_t> ConfigTable::get_int_array(const std::string& key, std::vector<std::int64_t> fallback) {
    const auto value = read_int_array(key, fallback);
    log(key, toml_text(fallback), toml_text(value));
    return value;
}

std::vector<std::int64_t> ConfigTable::read_int_array(const std::string& key, const std::vector<std::int64_t>& fallback) {
    asked_.insert(key);
    if (!has(key)) return fallback;
    const auto& v = lookup(key);
    if (!v.is_array()) fail(key, "expected an array of integers, got " + type_name(v));
    std::vector<std::int64_t> out;
    for (const auto& e : v.as_array()) {
        if (!e.is_integer()) fail(key, "expected an array of integers, found element " + show(e));
        out.push_back(e.as_integer());
    }
    return out;
}

std::vector<std::string> ConfigTable::get_string_array(const std::string& key, std::vector<std::string> fallback) {
    const auto value = read_string_array(key, fallback);
    log(key, toml_text(fallback), toml_text(value));
    return value;
}

std::vector<std::string> ConfigTable::read_string_array(const std::string& key, const std::vector<std::string>& fallback) {
    asked_.insert(key);
    if (!has(key)) return fallback;
    const auto& v = lookup(key);
    if (v.is_string()) return {v.as_string()};
    if (!v.is_array()) fail(key, "expected an array of strings, got " + type_name(v));
    std::vector<std::string> out;
    for (const auto& e : v.as_array()) {
        if (!e.is_string()) fail(key, "expected an array of strings, found element " + show(e));
        out.push_back(e.as_string());
    }
    return out;
}

std::optional<ConfigTable> ConfigTable::table(const std::string& key) {
    asked_.insert(key);
    if (!has(key)) return std::nullopt;
    const auto& v = lookup(key);
    if (!v.is_table()) fail(key, "expected a table, got " + type_name(v) + " " + show(v));
    return ConfigTable(v, key_path(key));
}

std::vector<ConfigTable> ConfigTable::tables(const std::string& key) {
    std::vector<ConfigTable> out;
    asked_.insert(key);
    if (!has(key)) return out;
    const auto& v = lookup(key);
    if (v.is_table()) {
        out.emplace_back(v, key_path(key));
        return out;
    }
    if (!v.is_array()) fail(key, "expected an array of tables ([[" + key + "]]), got " + type_name(v));
    const auto& arr = v.as_array();
    for (std::size_t i = 0; i < arr.size(); ++i) {
        std::string label = key_path(key) + "[" + std::to_string(i) + "]";
        if (arr[i].is_table() && arr[i].contains("name") && arr[i].at("name").is_string())
            label = key_path(key) + "." + arr[i].at("name").as_string().str;
        else if (arr[i].is_table() && arr[i].contains("source") && arr[i].contains("target") &&
                 arr[i].at("source").is_string() && arr[i].at("target").is_string())
            label = key_path(key) + "." + arr[i].at("source").as_string().str + "->" + arr[i].at("target").as_string().str;
        if (!arr[i].is_table()) throw ConfigError(label, "expected a table, got " + type_name(arr[i]));
        out.emplace_back(arr[i], label);
    }
    return out;
}

void ConfigTable::finish() const {
    std::vector<std::string> known(asked_.begin(), asked_.end());
    for (const auto& [key, value] : table_->as_table()) {
        (void)value;
        if (used_.count(key)) continue;
        const std::string hint = closest_match(key, known);
        throw ConfigError(key_path(key), std::string("unknown key") +
                                             (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
    }
}

namespace {
// Bytes this process may allocate: the smaller of the physical memory and RLIMIT_AS.
double memory_budget_bytes() {
    const double physical = static_cast<double>(sysconf(_SC_PHYS_PAGES)) * static_cast<double>(sysconf(_SC_PAGESIZE));
    struct rlimit limit {};
    double budget = physical > 0.0 ? physical : 1e18;
    if (getrlimit(RLIMIT_AS, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY)
        budget = std::min(budget, static_cast<double>(limit.rlim_cur));
    return budget;
}

}  // namespace

// Refuses, naming the key, a config whose `count` items of `bytes_each` cannot fit in memory,
// before anything is allocated (a size of 1e12 would otherwise end in std::bad_alloc).
void require_fits_in_memory(const ConfigTable& t, const std::string& key, double count, double bytes_each, const char* what) {
    const double need = count * bytes_each, budget = memory_budget_bytes();
    if (need > 0.5 * budget) {
        char text[200];
        std::snprintf(text, sizeof text, "%.3g %s need about %.3g GB, more than half of the %.3g GB this process may use",
                      count, what, need / 1e9, budget / 1e9);
        t.fail(key, text);
    }
}


double require_positive(const ConfigTable& t, const std::string& key, double value) {
    if (!(value > 0.0)) t.fail(key, "must be > 0, got " + toml_text(value));
    return value;
}

double require_non_negative(const ConfigTable& t, const std::string& key, double value) {
    if (!(value >= 0.0)) t.fail(key, "must be >= 0, got " + toml_text(value));
    return value;
}

double require_probability(const ConfigTable& t, const std::string& key, double value) {
    if (!(value >= 0.0 && value <= 1.0)) t.fail(key, "must be a probability in [0, 1], got " + toml_text(value));
    return value;
}

}  // namespace settle
