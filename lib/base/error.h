// cfs::Error: the one failure mechanism of the library (STYLE §3).
// Layer: base. An Error carries an errno value and the complete, printable message; tools print
// what() as-is (upstream's messages are not "context: strerror" shaped, so std::system_error's
// formatting would not reproduce them).
#pragma once

#include <cerrno>
#include <stdexcept>
#include <string>

namespace cfs {

class Error : public std::runtime_error {
 public:
  Error(int err, const std::string& message) : std::runtime_error(message), errno_(err) {}
  int code() const noexcept { return errno_; }

 private:
  int errno_;
};

// An Error whose message is strerror(err), optionally prefixed by "context: ".
[[noreturn]] void throw_errno(int err, const std::string& context = {});
// Corrupt or hostile image input: EUCLEAN (the kernel's EFSCORRUPTED).
[[noreturn]] void throw_corrupt(const std::string& what);

}  // namespace cfs
