// cfs::Error: the one failure mechanism of the library (STYLE §3).
// Layer: base. An Error carries an errno value, a kind that decisions read (retry, back off a
// mirror, blame the disk) and a chain of contexts around its cause. Adding context keeps the
// kind and the errno: wrap(), or with_context() around a call. what() is the chain joined by
// ": " (outermost first), the form most tools print; cfsctl formats the chain itself
// ("Caused by:"). Code never decides by comparing message text.
#pragma once

#include <cerrno>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace cfs {

enum class ErrorKind {
  kFailed,     // nothing more specific is known
  kTransient,  // may go away on retry: a reset connection, a timeout, HTTP 5xx or 429
  kNotFound,   // what was asked for does not exist (a 404, a missing object or ref)
  kCorrupt,    // bytes from outside are wrong: a hostile image, layer or mirror answer
  kRefused,    // not allowed: authentication, permissions, a policy
  kLocalIo,    // this machine's resources failed: a full disk, too many open files, no memory
  kCancelled,  // the caller asked the work to stop
};

// The kind an errno value means when nothing more is known (ENOENT: not found, ENOSPC: local…).
ErrorKind kind_of_errno(int err) noexcept;

class Error : public std::runtime_error {
 public:
  Error(int err, const std::string& message) : Error(kind_of_errno(err), err, message) {}
  Error(ErrorKind kind, int err, const std::string& message)
      : std::runtime_error(message), errno_(err), kind_(kind), chain_{message} {}

  int code() const noexcept { return errno_; }
  ErrorKind kind() const noexcept { return kind_; }
  // The contexts, outermost first, ending with the innermost cause.
  const std::vector<std::string>& chain() const noexcept { return chain_; }
  // The innermost cause alone.
  const std::string& cause() const noexcept { return chain_.back(); }

  // This error with `context` around it: the same kind and errno.
  Error wrap(const std::string& context) const;

 private:
  Error(ErrorKind kind, int err, std::vector<std::string> chain);
  int errno_;
  ErrorKind kind_;
  std::vector<std::string> chain_;
};

// f(), with `context` around any Error it throws.
template <class F>
auto with_context(const std::string& context, F&& f) -> decltype(f()) {
  try {
    return std::forward<F>(f)();
  } catch (const Error& e) {
    throw e.wrap(context);
  }
}

// An Error whose message (one link of the chain) is strerror(err), optionally prefixed by
// "context: ".
[[noreturn]] void throw_errno(int err, const std::string& context = {});
// strerror(err) as Rust's std::io::Error prints it ("… (os error N)"): the cause under the
// contexts of the repository errors cfsctl shares with composefs-rs.
Error os_error(int err);
// Corrupt or hostile image input: EUCLEAN (the kernel's EFSCORRUPTED).
[[noreturn]] void throw_corrupt(const std::string& what);

}  // namespace cfs
