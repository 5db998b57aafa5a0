#include "sim/output_lock.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <set>

#include "sim/error.hpp"

namespace settle {

namespace {

std::mutex owned_mutex;
std::set<std::string>& owned_paths() {
    static std::set<std::string> paths;
    return paths;
}

}  // namespace

OutputLock::OutputLock(std::string path, bool overwrite) : path_(std::move(path)) {
    // O_EXCL without overwrite: the existence check and the creation are one step, so a file that
    // appeared since the command's own check is never touched.
    const int flags = O_RDWR | O_CREAT | O_CLOEXEC | (overwrite ? 0 : O_EXCL);
    fd_ = ::open(path_.c_str(), flags, 0644);
    if (fd_ < 0) {
        if (errno == EEXIST) throw FileError(path_, "output file exists (use --force to overwrite)");
        throw FileError(path_, std::string("cannot create output file: ") + std::strerror(errno));
    }
    struct flock lock {};
    lock.l_type = F_WRLCK;
    lock.l_whence = SEEK_SET;  // l_start = l_len = 0: the whole file
    if (::fcntl(fd_, F_OFD_SETLK, &lock) != 0) {
        const int error = errno;
        ::close(fd_);
        fd_ = -1;
        if (error == EAGAIN || error == EACCES)
            throw FileError(path_, "another settle run is writing this file; choose another --out");
        throw FileError(path_, std::string("cannot lock output file: ") + std::strerror(error));
    }
    const std::lock_guard<std::mutex> guard(owned_mutex);
    owned_paths().insert(path_);
}

OutputLock::~OutputLock() {
    if (fd_ >= 0) ::close(fd_);  // releases the lock
}

bool OutputLock::owned_by_this_process(const std::string& path) {
    const std::lock_guard<std::mutex> guard(owned_mutex);
    return owned_paths().count(path) != 0;
}

int OutputLock::reserve(unsigned long long from, unsigned long long to) const {
    if (to <= from) return 0;
    return ::posix_fallocate(fd_, static_cast<off_t>(from), static_cast<off_t>(to - from));
}

void OutputLock::shrink_to(unsigned long long bytes) const {
    struct stat st {};
    if (::fstat(fd_, &st) == 0 && static_cast<unsigned long long>(st.st_size) > bytes)
        static_cast<void>(::ftruncate(fd_, static_cast<off_t>(bytes)));
}

}  // namespace settle
