#include "base/error.h"

#include <cstring>

namespace cfs {

void throw_errno(int err, const std::string& context) {
  std::string msg = context.empty() ? std::string() : context + ": ";
  throw Error(err, msg + std::strerror(err));
}

void throw_corrupt(const std::string& what) { throw Error(EUCLEAN, "corrupt image: " + what); }

}  // namespace cfs
