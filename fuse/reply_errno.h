// The errno a FUSE request is answered with when answering it threw: an Error's own (EIO for
// a corrupt image: EUCLEAN means nothing to a caller), ENOMEM when memory ran out, EIO for
// anything else. Nothing may unwind out of a request or a thread that answers requests.
// Layer: fuse.
#pragma once

#include <cerrno>
#include <exception>
#include <new>

#include "base/error.h"

namespace cfs::fuse {

// Call it from a catch block: it reads the exception being handled.
inline int reply_errno_of_current_exception() noexcept {
  try {
    throw;
  } catch (const Error& e) {
    return e.code() == EUCLEAN || e.code() <= 0 ? EIO : e.code();
  } catch (const std::bad_alloc&) {
    return ENOMEM;
  } catch (...) {
    return EIO;
  }
}

}  // namespace cfs::fuse
