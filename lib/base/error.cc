#include "base/error.h"

#include <cstring>

namespace cfs {
namespace {

std::string joined(const std::vector<std::string>& chain) {
  std::string out;
  for (const std::string& part : chain) out += (out.empty() ? "" : ": ") + part;
  return out;
}

}  // namespace

ErrorKind kind_of_errno(int err) noexcept {
  switch (err) {
    case ENOENT:
      return ErrorKind::kNotFound;
    case EUCLEAN:
    case EBADMSG:
      return ErrorKind::kCorrupt;
    case EACCES:
    case EPERM:
      return ErrorKind::kRefused;
    case ENOSPC:
    case EDQUOT:
    case EMFILE:
    case ENFILE:
    case ENOMEM:
    case EROFS:
      return ErrorKind::kLocalIo;
    case ECANCELED:
      return ErrorKind::kCancelled;
    default:
      return ErrorKind::kFailed;
  }
}

Error::Error(ErrorKind kind, int err, std::vector<std::string> chain)
    : std::runtime_error(joined(chain)), errno_(err), kind_(kind), chain_(std::move(chain)) {}

Error Error::wrap(const std::string& context) const {
  std::vector<std::string> chain{context};
  chain.insert(chain.end(), chain_.begin(), chain_.end());
  return Error(kind_, errno_, std::move(chain));
}

void throw_errno(int err, const std::string& context) {
  std::string msg = context.empty() ? std::string() : context + ": ";
  throw Error(err, msg + std::strerror(err));
}

Error os_error(int err) {
  return Error(err, std::string(std::strerror(err)) + " (os error " + std::to_string(err) + ")");
}

void throw_corrupt(const std::string& what) { throw Error(EUCLEAN, "corrupt image: " + what); }

}  // namespace cfs
