#pragma once
// Ownership of an output file for the length of a run.
//
// HDF5 gives up its own file lock when SWMR writing starts, so two runs writing one path would
// corrupt each other's file. Before the file is created or truncated, the writer takes an
// open-file-description lock (Linux F_OFD_SETLK, a write lock on the whole file) on its own
// descriptor and holds it until the HDF5 file is closed. The lock is advisory: SWMR readers
// (h5py, settle_analysis) do not see it, and a second settle writer is refused, with or without
// --force, before anything is truncated.
#include <string>

namespace settle {

class OutputLock {
public:
    // Takes the lock on `path`, creating an empty file when there is none. Without `overwrite`
    // an existing file is an error; with it, the file is kept as it is (the caller truncates it
    // once the lock is held). Throws FileError naming the path.
    OutputLock(std::string path, bool overwrite);
    ~OutputLock();
    OutputLock(const OutputLock&) = delete;
    OutputLock& operator=(const OutputLock&) = delete;

    // Makes sure the bytes [from, to) of the file have disk space allocated (posix_fallocate on
    // the locked descriptor; the file grows when it is shorter). Returns 0, or the error: ENOSPC
    // on a full disk, EFBIG past the process's file-size limit, EOPNOTSUPP/EINVAL where the file
    // system cannot reserve (the caller then goes on without a reservation).
    int reserve(unsigned long long from, unsigned long long to) const;
    // Shrinks the file to `bytes` when it is longer (drops a reservation nothing was written to).
    void shrink_to(unsigned long long bytes) const;
    // Whether this process created or truncated `path` for output (so an input error found later
    // may remove it: the file holds nothing of anyone else's).
    static bool owned_by_this_process(const std::string& path);

private:
    std::string path_;
    int fd_ = -1;
};

}  // namespace settle
