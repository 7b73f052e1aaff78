#include "base/file_io.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <utility>

#include "base/error.h"

namespace cfs {

void write_all(int fd, std::span<const std::byte> data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno(errno);
    }
    data = data.subspan(static_cast<std::size_t>(n));
  }
}

void write_all(int fd, std::string_view text) { write_all(fd, std::as_bytes(std::span(text))); }

std::size_t read_some(int fd, std::span<std::byte> buffer) {
  for (;;) {
    ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n >= 0) return static_cast<std::size_t>(n);
    if (errno != EINTR) throw_errno(errno);
  }
}

std::vector<std::byte> read_all(int fd) {
  std::vector<std::byte> out;
  std::size_t used = 0;
  for (;;) {
    if (out.size() - used < 65536) out.resize(std::max<std::size_t>(out.size() * 2, 1 << 20));
    std::size_t n = read_some(fd, std::span(out).subspan(used));
    if (n == 0) break;
    used += n;
  }
  out.resize(used);
  out.shrink_to_fit();
  return out;
}

UniqueFd open_read(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw_errno(errno);
  return UniqueFd(fd);
}

UniqueFd reopen_read_only(int fd) {
  std::string proc = "/proc/self/fd/" + std::to_string(fd);
  UniqueFd ro(::open(proc.c_str(), O_RDONLY | O_CLOEXEC));
  if (!ro) throw_errno(errno);
  return ro;
}

MappedFile MappedFile::open(int fd) {
  MappedFile m;
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw_errno(errno);
  if (S_ISREG(st.st_mode) && st.st_size > 0) {
    void* p = ::mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) throw_errno(errno);
    m.data_ = static_cast<const std::byte*>(p);
    m.size_ = static_cast<std::size_t>(st.st_size);
    m.mapped_ = true;
    return m;
  }
  m.copy_ = read_all(fd);
  m.data_ = m.copy_.data();
  m.size_ = m.copy_.size();
  return m;
}

MappedFile::MappedFile(MappedFile&& o) noexcept { *this = std::move(o); }

MappedFile& MappedFile::operator=(MappedFile&& o) noexcept {
  if (this != &o) {
    release();
    mapped_ = std::exchange(o.mapped_, false);
    size_ = std::exchange(o.size_, 0);
    copy_ = std::move(o.copy_);
    data_ = mapped_ ? std::exchange(o.data_, nullptr) : copy_.data();
    o.data_ = nullptr;
  }
  return *this;
}

MappedFile::~MappedFile() { release(); }

void MappedFile::release() noexcept {
  if (mapped_) ::munmap(const_cast<std::byte*>(data_), size_);
  mapped_ = false;
  data_ = nullptr;
  size_ = 0;
  copy_.clear();
}

}  // namespace cfs
