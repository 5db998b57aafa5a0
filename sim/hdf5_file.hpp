#pragma once
// Small RAII layer over the HDF5 C API: every handle closes itself, every failure throws
// settle::FileError naming the file and the object. Only what settle's writers need.
#include <hdf5.h>

#include <cstdint>
#include <string>
#include <vector>

namespace settle::h5 {

// A move-only HDF5 identifier that closes itself with the matching H5*close.
class Handle {
public:
    using Closer = herr_t (*)(hid_t);
    Handle() = default;
    Handle(hid_t id, Closer closer) : id_(id), closer_(closer) {}
    Handle(Handle&& o) noexcept : id_(o.id_), closer_(o.closer_) { o.id_ = H5I_INVALID_HID; }
    Handle& operator=(Handle&& o) noexcept {
        if (this != &o) {
            reset();
            id_ = o.id_;
            closer_ = o.closer_;
            o.id_ = H5I_INVALID_HID;
        }
        return *this;
    }
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;
    ~Handle() { reset(); }
    void reset() {
        if (id_ >= 0 && closer_) closer_(id_);
        id_ = H5I_INVALID_HID;
    }
    hid_t get() const { return id_; }
    explicit operator bool() const { return id_ >= 0; }

private:
    hid_t id_ = H5I_INVALID_HID;
    Closer closer_ = nullptr;
};

// Silences HDF5's own error printing; settle reports errors itself.
void silence_library_errors();

enum class Mode { create_exclusive, create_truncate, read_write, read_only };
// SWMR: when writing, the file uses the latest format so start_swmr() can be called.
Handle open_file(const std::string& path, Mode mode);
void start_swmr(hid_t file, const std::string& path);
void flush(hid_t file, const std::string& path);

Handle create_group(hid_t parent, const std::string& name);
Handle open_group(hid_t parent, const std::string& name);
bool exists(hid_t parent, const std::string& name);

// Attributes.
void attr_string(hid_t obj, const std::string& name, const std::string& value);
void attr_strings(hid_t obj, const std::string& name, const std::vector<std::string>& values);
void attr_u64(hid_t obj, const std::string& name, std::uint64_t value);
void attr_u32(hid_t obj, const std::string& name, std::uint32_t value);
void attr_u32s(hid_t obj, const std::string& name, const std::vector<std::uint32_t>& values);
void attr_u8(hid_t obj, const std::string& name, std::uint8_t value);
void attr_f64(hid_t obj, const std::string& name, double value);
// SONATA's sorting attribute: an HDF5 enum over uint8 {none, by_id, by_time}.
void attr_sorting_by_time(hid_t obj);

// Fixed datasets.
void dataset_f64(hid_t parent, const std::string& name, const std::vector<double>& values);
void dataset_f64_2d(hid_t parent, const std::string& name, std::size_t rows, std::size_t cols,
                    const std::vector<double>& row_major);
void dataset_u64(hid_t parent, const std::string& name, const std::vector<std::uint64_t>& values);
void dataset_u32(hid_t parent, const std::string& name, const std::vector<std::uint32_t>& values);
void dataset_string(hid_t parent, const std::string& name, const std::string& value);
Handle open_dataset(hid_t parent, const std::string& name);
// Overwrites the whole of an existing 1-D float64 dataset of the same length.
void overwrite_f64(hid_t dataset, const std::vector<double>& values);
// The file's end of allocated space (HDF5's EOA): what it has placed data or metadata in so far.
std::uint64_t end_of_allocation(hid_t file, const std::string& path);

// A 1-D or 2-D dataset that grows along its first dimension, chunked and compressed.
class ExtensibleDataset {
public:
    ExtensibleDataset() = default;
    // cols = 0 makes a 1-D dataset.
    ExtensibleDataset(hid_t parent, const std::string& name, hid_t mem_type, std::size_t cols, std::size_t chunk_rows);
    void append(const void* data, std::size_t rows);
    // An upper bound of the file space that appending `rows` rows can allocate: every chunk the
    // append touches, written anew (a grown chunk moves), its valid rows compressed by deflate
    // (which never grows data by more than a fraction of a percent) and its fill almost free.
    std::uint64_t append_space_bound(std::size_t rows) const;
    std::uint64_t rows() const { return rows_; }
    // Rows known to be on disk: set after a successful flush of the file.
    void mark_durable() { durable_rows_ = rows_; }
    // After a failed write: shrinks the dataset back to its durable rows, so that no reader sees
    // rows whose data never reached the disk (they would read as zeros). Best effort: false when
    // HDF5 refuses.
    bool truncate_to_durable();
    hid_t id() const { return dataset_.get(); }

private:
    Handle dataset_;
    hid_t type_ = H5I_INVALID_HID;
    std::size_t cols_ = 0;
    std::size_t chunk_rows_ = 1;
    std::uint64_t rows_ = 0;
    std::uint64_t durable_rows_ = 0;
    std::string name_;
};

}  // namespace settle::h5

namespace settle::h5 {
// Readers, for `settle info` and tests.
Handle open_file_for_reading(const std::string& path);  // also while a writer is in SWMR mode
std::vector<std::string> children(hid_t group);
bool has_attr(hid_t obj, const std::string& name);
std::string read_attr_string(hid_t obj, const std::string& name);
double read_attr_f64(hid_t obj, const std::string& name);
std::uint64_t read_attr_u64(hid_t obj, const std::string& name);
std::vector<std::uint64_t> dataset_shape(hid_t parent, const std::string& name);
std::string read_string_dataset(hid_t parent, const std::string& name);
// Whole 1-D numeric datasets, converted to the requested type.
std::vector<double> read_f64_dataset(hid_t parent, const std::string& name);
std::vector<std::uint64_t> read_u64_dataset(hid_t parent, const std::string& name);
}  // namespace settle::h5
