#include "sim/hdf5_file.hpp"

#include <sys/stat.h>

#include "sim/error.hpp"

namespace settle::h5 {

namespace {

std::string object_name(hid_t obj) {
    char buf[512];
    const ssize_t n = H5Iget_name(obj, buf, sizeof buf);
    std::string name = n > 0 ? std::string(buf, static_cast<std::size_t>(std::min<ssize_t>(n, 511))) : "?";
    char fbuf[512];
    const ssize_t fn = H5Fget_name(obj, fbuf, sizeof fbuf);
    const std::string file = fn > 0 ? std::string(fbuf, static_cast<std::size_t>(std::min<ssize_t>(fn, 511))) : "HDF5";
    return file + ":" + name;
}

void check(herr_t status, hid_t where, const std::string& what) {
    if (status < 0) throw FileError(object_name(where), "HDF5 failed to " + what);
}

hid_t check_id(hid_t id, hid_t where, const std::string& what) {
    if (id < 0) throw FileError(object_name(where), "HDF5 failed to " + what);
    return id;
}

Handle scalar_space() { return Handle(H5Screate(H5S_SCALAR), H5Sclose); }
Handle simple_space(std::vector<hsize_t> dims) {
    return Handle(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose);
}
Handle string_type(std::size_t length) {
    Handle t(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(t.get(), std::max<std::size_t>(length, 1));
    H5Tset_strpad(t.get(), H5T_STR_NULLPAD);
    H5Tset_cset(t.get(), H5T_CSET_UTF8);
    return t;
}

void write_attr(hid_t obj, const std::string& name, hid_t type, hid_t space, const void* data) {
    if (H5Aexists(obj, name.c_str()) > 0) check(H5Adelete(obj, name.c_str()), obj, "replace attribute " + name);
    Handle a(check_id(H5Acreate2(obj, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT), obj,
                      "create attribute " + name),
             H5Aclose);
    check(H5Awrite(a.get(), type, data), obj, "write attribute " + name);
}

void write_dataset(hid_t parent, const std::string& name, hid_t type, hid_t space, const void* data) {
    // Names may be paths ("weights/W0"): missing groups on the way are created.
    Handle lcpl(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
    H5Pset_create_intermediate_group(lcpl.get(), 1);
    Handle d(check_id(H5Dcreate2(parent, name.c_str(), type, space, lcpl.get(), H5P_DEFAULT, H5P_DEFAULT), parent,
                      "create dataset " + name),
             H5Dclose);
    check(H5Dwrite(d.get(), type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), parent, "write dataset " + name);
}

}  // namespace

void silence_library_errors() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

Handle open_file(const std::string& path, Mode mode) {
    silence_library_errors();
    if (mode == Mode::read_only || mode == Mode::read_write) {
        const hid_t id = H5Fopen(path.c_str(), mode == Mode::read_only ? H5F_ACC_RDONLY : H5F_ACC_RDWR, H5P_DEFAULT);
        if (id < 0) throw FileError(path, "cannot open as an HDF5 file");
        return Handle(id, H5Fclose);
    }
    Handle fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
    // SWMR needs the 1.10 file format.
    H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);
    const unsigned flags = mode == Mode::create_exclusive ? H5F_ACC_EXCL : H5F_ACC_TRUNC;
    const hid_t id = H5Fcreate(path.c_str(), flags, H5P_DEFAULT, fapl.get());
    if (id < 0) {
        struct stat st {};
        if (mode == Mode::create_exclusive && stat(path.c_str(), &st) == 0)
            throw FileError(path, "output file exists (use --force to overwrite)");
        throw FileError(path, "cannot create output file (is the directory writable?)");
    }
    return Handle(id, H5Fclose);
}

std::uint64_t end_of_allocation(hid_t file, const std::string& path) {
    haddr_t eoa = 0;
    if (H5Fget_eoa(file, &eoa) < 0) throw FileError(path, "cannot read the end of allocated space");
    return static_cast<std::uint64_t>(eoa);
}

void start_swmr(hid_t file, const std::string& path) {
    if (H5Fstart_swmr_write(file) < 0) throw FileError(path, "cannot start SWMR writing");
}

void flush(hid_t file, const std::string& path) {
    if (H5Fflush(file, H5F_SCOPE_GLOBAL) < 0) throw FileError(path, "cannot flush (disk full?)");
}

Handle create_group(hid_t parent, const std::string& name) {
    Handle lcpl(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
    H5Pset_create_intermediate_group(lcpl.get(), 1);
    return Handle(check_id(H5Gcreate2(parent, name.c_str(), lcpl.get(), H5P_DEFAULT, H5P_DEFAULT), parent,
                           "create group " + name),
                  H5Gclose);
}

Handle open_group(hid_t parent, const std::string& name) {
    return Handle(check_id(H5Gopen2(parent, name.c_str(), H5P_DEFAULT), parent, "open group " + name), H5Gclose);
}

bool exists(hid_t parent, const std::string& name) { return H5Lexists(parent, name.c_str(), H5P_DEFAULT) > 0; }

void attr_string(hid_t obj, const std::string& name, const std::string& value) {
    Handle t = string_type(value.size());
    Handle s = scalar_space();
    write_attr(obj, name, t.get(), s.get(), value.c_str());
}

void attr_strings(hid_t obj, const std::string& name, const std::vector<std::string>& values) {
    std::size_t width = 1;
    for (const auto& v : values) width = std::max(width, v.size());
    std::vector<char> buf(width * values.size(), '\0');
    for (std::size_t i = 0; i < values.size(); ++i) values[i].copy(buf.data() + i * width, values[i].size());
    Handle t = string_type(width);
    Handle s = simple_space({values.size()});
    write_attr(obj, name, t.get(), s.get(), buf.data());
}

void attr_u64(hid_t obj, const std::string& name, std::uint64_t value) {
    Handle s = scalar_space();
    write_attr(obj, name, H5T_NATIVE_UINT64, s.get(), &value);
}

void attr_u32(hid_t obj, const std::string& name, std::uint32_t value) {
    Handle s = scalar_space();
    write_attr(obj, name, H5T_NATIVE_UINT32, s.get(), &value);
}

void attr_u32s(hid_t obj, const std::string& name, const std::vector<std::uint32_t>& values) {
    Handle s = simple_space({values.size()});
    write_attr(obj, name, H5T_NATIVE_UINT32, s.get(), values.data());
}

void attr_u8(hid_t obj, const std::string& name, std::uint8_t value) {
    Handle s = scalar_space();
    write_attr(obj, name, H5T_NATIVE_UINT8, s.get(), &value);
}

void attr_f64(hid_t obj, const std::string& name, double value) {
    Handle s = scalar_space();
    write_attr(obj, name, H5T_NATIVE_DOUBLE, s.get(), &value);
}

void attr_sorting_by_time(hid_t obj) {
    Handle t(H5Tenum_create(H5T_NATIVE_UINT8), H5Tclose);
    const std::uint8_t none = 0, by_id = 1, by_time = 2;
    H5Tenum_insert(t.get(), "none", &none);
    H5Tenum_insert(t.get(), "by_id", &by_id);
    H5Tenum_insert(t.get(), "by_time", &by_time);
    Handle s = scalar_space();
    write_attr(obj, "sorting", t.get(), s.get(), &by_time);
}

void dataset_f64(hid_t parent, const std::string& name, const std::vector<double>& values) {
    Handle s = simple_space({values.size()});
    write_dataset(parent, name, H5T_NATIVE_DOUBLE, s.get(), values.data());
}

void dataset_f64_2d(hid_t parent, const std::string& name, std::size_t rows, std::size_t cols,
                    const std::vector<double>& row_major) {
    Handle s = simple_space({rows, cols});
    write_dataset(parent, name, H5T_NATIVE_DOUBLE, s.get(), row_major.data());
}

void dataset_u64(hid_t parent, const std::string& name, const std::vector<std::uint64_t>& values) {
    Handle s = simple_space({values.size()});
    write_dataset(parent, name, H5T_NATIVE_UINT64, s.get(), values.data());
}

void dataset_u32(hid_t parent, const std::string& name, const std::vector<std::uint32_t>& values) {
    Handle s = simple_space({values.size()});
    write_dataset(parent, name, H5T_NATIVE_UINT32, s.get(), values.data());
}

void dataset_string(hid_t parent, const std::string& name, const std::string& value) {
    Handle t = string_type(value.size());
    Handle s = scalar_space();
    write_dataset(parent, name, t.get(), s.get(), value.c_str());
}

Handle open_dataset(hid_t parent, const std::string& name) {
    return Handle(check_id(H5Dopen2(parent, name.c_str(), H5P_DEFAULT), parent, "open dataset " + name), H5Dclose);
}

void overwrite_f64(hid_t dataset, const std::vector<double>& values) {
    check(H5Dwrite(dataset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), dataset, "write");
}

ExtensibleDataset::ExtensibleDataset(hid_t parent, const std::string& name, hid_t mem_type, std::size_t cols,
                                     std::size_t chunk_rows)
    : type_(mem_type), cols_(cols), chunk_rows_(std::max<std::size_t>(chunk_rows, 1)), name_(name) {
    const bool two_d = cols > 0;
    std::vector<hsize_t> dims = two_d ? std::vector<hsize_t>{0, cols} : std::vector<hsize_t>{0};
    std::vector<hsize_t> maxdims = two_d ? std::vector<hsize_t>{H5S_UNLIMITED, cols} : std::vector<hsize_t>{H5S_UNLIMITED};
    std::vector<hsize_t> chunk = two_d ? std::vector<hsize_t>{std::max<std::size_t>(chunk_rows, 1), std::max<std::size_t>(cols, 1)}
                                       : std::vector<hsize_t>{std::max<std::size_t>(chunk_rows, 1)};
    Handle space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), maxdims.data()), H5Sclose);
    Handle dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
    H5Pset_chunk(dcpl.get(), static_cast<int>(chunk.size()), chunk.data());
    H5Pset_shuffle(dcpl.get());
    H5Pset_deflate(dcpl.get(), 4);
    dataset_ = Handle(check_id(H5Dcreate2(parent, name.c_str(), mem_type, space.get(), H5P_DEFAULT, dcpl.get(),
                                          H5P_DEFAULT),
                               parent, "create dataset " + name),
                      H5Dclose);
}

void ExtensibleDataset::append(const void* data, std::size_t rows) {
    if (rows == 0) return;
    const bool two_d = cols_ > 0;
    std::vector<hsize_t> new_dims = two_d ? std::vector<hsize_t>{rows_ + rows, cols_} : std::vector<hsize_t>{rows_ + rows};
    check(H5Dset_extent(dataset_.get(), new_dims.data()), dataset_.get(), "extend " + name_);
    Handle file_space(H5Dget_space(dataset_.get()), H5Sclose);
    std::vector<hsize_t> start = two_d ? std::vector<hsize_t>{rows_, 0} : std::vector<hsize_t>{rows_};
    std::vector<hsize_t> count = two_d ? std::vector<hsize_t>{rows, cols_} : std::vector<hsize_t>{rows};
    H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr);
    Handle mem_space(H5Screate_simple(static_cast<int>(count.size()), count.data(), nullptr), H5Sclose);
    check(H5Dwrite(dataset_.get(), type_, mem_space.get(), file_space.get(), H5P_DEFAULT, data), dataset_.get(),
          "append to " + name_);
    rows_ += rows;
}

std::uint64_t ExtensibleDataset::append_space_bound(std::size_t rows) const {
    if (rows == 0 || !dataset_) return 0;
    const std::uint64_t row_bytes = H5Tget_size(type_) * std::max<std::size_t>(cols_, 1);
    const std::uint64_t chunk_bytes = chunk_rows_ * row_bytes;
    const std::uint64_t first_chunk = rows_ / chunk_rows_, last_chunk = (rows_ + rows - 1) / chunk_rows_;
    const std::uint64_t valid_rows = rows_ + rows - first_chunk * chunk_rows_;
    const std::uint64_t chunks = last_chunk - first_chunk + 1;
    return valid_rows * row_bytes + valid_rows * row_bytes / 512 + chunks * (chunk_bytes / 256 + 1024);
}

bool ExtensibleDataset::truncate_to_durable() {
    if (!dataset_) return true;
    const std::vector<hsize_t> dims =
        cols_ > 0 ? std::vector<hsize_t>{durable_rows_, cols_} : std::vector<hsize_t>{durable_rows_};
    if (H5Dset_extent(dataset_.get(), dims.data()) < 0) return false;
    rows_ = durable_rows_;
    return true;
}

}  // namespace settle::h5

namespace settle::h5 {

Handle open_file_for_reading(const std::string& path) {
    silence_library_errors();
    if (H5Fis_hdf5(path.c_str()) <= 0) {
        struct stat st {};
        if (stat(path.c_str(), &st) != 0) throw FileError(path, "no such file");
        throw FileError(path, "not an HDF5 file");
    }
    hid_t id = H5Fopen(path.c_str(), H5F_ACC_RDONLY | H5F_ACC_SWMR_READ, H5P_DEFAULT);
    if (id < 0) id = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    if (id < 0) throw FileError(path, "cannot open the HDF5 file for reading");
    return Handle(id, H5Fclose);
}

std::vector<std::string> children(hid_t group) {
    std::vector<std::string> names;
    H5Literate(
        group, H5_INDEX_NAME, H5_ITER_INC, nullptr,
        [](hid_t, const char* name, const H5L_info_t*, void* data) -> herr_t {
            static_cast<std::vector<std::string>*>(data)->emplace_back(name);
            return 0;
        },
        &names);
    return names;
}

bool has_attr(hid_t obj, const std::string& name) { return H5Aexists(obj, name.c_str()) > 0; }

std::string read_attr_string(hid_t obj, const std::string& name) {
    Handle a(check_id(H5Aopen(obj, name.c_str(), H5P_DEFAULT), obj, "open attribute " + name), H5Aclose);
    Handle t(H5Aget_type(a.get()), H5Tclose);
    if (H5Tget_class(t.get()) != H5T_STRING) throw FileError(object_name(obj), "attribute " + name + " is not a string");
    if (H5Tis_variable_str(t.get()) > 0) {
        char* value = nullptr;
        Handle mt(H5Tcopy(H5T_C_S1), H5Tclose);
        H5Tset_size(mt.get(), H5T_VARIABLE);
        check(H5Aread(a.get(), mt.get(), &value), obj, "read attribute " + name);
        std::string out = value ? value : "";
        H5free_memory(value);
        return out;
    }
    std::string buf(H5Tget_size(t.get()), '\0');
    check(H5Aread(a.get(), t.get(), buf.data()), obj, "read attribute " + name);
    return buf.substr(0, buf.find('\0'));
}

double read_attr_f64(hid_t obj, const std::string& name) {
    Handle a(check_id(H5Aopen(obj, name.c_str(), H5P_DEFAULT), obj, "open attribute " + name), H5Aclose);
    double v = 0.0;
    check(H5Aread(a.get(), H5T_NATIVE_DOUBLE, &v), obj, "read attribute " + name);
    return v;
}

std::uint64_t read_attr_u64(hid_t obj, const std::string& name) {
    Handle a(check_id(H5Aopen(obj, name.c_str(), H5P_DEFAULT), obj, "open attribute " + name), H5Aclose);
    std::uint64_t v = 0;
    check(H5Aread(a.get(), H5T_NATIVE_UINT64, &v), obj, "read attribute " + name);
    return v;
}

std::vector<std::uint64_t> dataset_shape(hid_t parent, const std::string& name) {
    Handle d = open_dataset(parent, name);
    Handle s(H5Dget_space(d.get()), H5Sclose);
    const int rank = H5Sget_simple_extent_ndims(s.get());
    std::vector<hsize_t> dims(static_cast<std::size_t>(std::max(rank, 0)));
    if (rank > 0) H5Sget_simple_extent_dims(s.get(), dims.data(), nullptr);
    return {dims.begin(), dims.end()};
}

std::string read_string_dataset(hid_t parent, const std::string& name) {
    Handle d = open_dataset(parent, name);
    Handle t(H5Dget_type(d.get()), H5Tclose);
    std::string buf(H5Tget_size(t.get()), '\0');
    check(H5Dread(d.get(), t.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data()), parent, "read " + name);
    return buf.substr(0, buf.find('\0'));
}

namespace {
template <class T>
std::vector<T> read_1d(hid_t parent, const std::string& name, hid_t mem_type) {
    const auto shape = dataset_shape(parent, name);
    if (shape.size() != 1) throw FileError(object_name(parent), name + ": expected a 1-D dataset");
    std::vector<T> out(shape[0]);
    Handle d = open_dataset(parent, name);
    if (!out.empty()) check(H5Dread(d.get(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()), d.get(), "read " + name);
    return out;
}
}  // namespace

std::vector<double> read_f64_dataset(hid_t parent, const std::string& name) {
    return read_1d<double>(parent, name, H5T_NATIVE_DOUBLE);
}
std::vector<std::uint64_t> read_u64_dataset(hid_t parent, const std::string& name) {
    return read_1d<std::uint64_t>(parent, name, H5T_NATIVE_UINT64);
}

}  // namespace settle::h5
