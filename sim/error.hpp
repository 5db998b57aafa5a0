#pragma once
// Error types shared by the whole project. Every user-facing failure is one of these, so the CLI
// can print a one-line message naming the file, key and value and exit with code 2.
#include <stdexcept>
#include <string>

namespace settle {

// A problem with user input: a config key, a value, a data file, a command-line option.
class InputError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// A config key with a bad value, or an unknown key. `key` is the dotted path ("population[1].size").
class ConfigError : public InputError {
public:
    ConfigError(std::string key, const std::string& message)
        : InputError(key.empty() ? message : key + ": " + message), key_(std::move(key)) {}
    const std::string& key() const noexcept { return key_; }

private:
    std::string key_;
};

// Writing the output file failed during the run (disk full, file size limit, I/O error). Not an
// input error: the file stays, marked incomplete, holding what was flushed before (exit code 3).
class OutputError : public std::runtime_error {
public:
    OutputError(std::string path, const std::string& message)
        : std::runtime_error(path + ": " + message), path_(std::move(path)) {}
    const std::string& path() const noexcept { return path_; }

private:
    std::string path_;
};

// A data or output file that cannot be read or written.
class FileError : public InputError {
public:
    FileError(std::string path, const std::string& message)
        : InputError(path + ": " + message), path_(std::move(path)) {}
    const std::string& path() const noexcept { return path_; }

private:
    std::string path_;
};

}  // namespace settle
