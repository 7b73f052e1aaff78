// The C boundary: every exported function runs its body through one of these, so that no C++
// exception reaches a C caller. A cfs::Error becomes its errno, std::bad_alloc ENOMEM, anything
// else EIO. Layer: capi.
#pragma once

#include <cerrno>
#include <new>

#include "base/error.h"

namespace cfs::capi {

template <class F>
int errno_of(F&& body) noexcept {
  try {
    body();
    return 0;
  } catch (const Error& e) {
    return e.code() != 0 ? e.code() : EIO;
  } catch (const std::bad_alloc&) {
    return ENOMEM;
  } catch (...) {
    return EIO;
  }
}

// int/-1 functions: 0, or -1 with errno set.
template <class F>
int int_call(F&& body) noexcept {
  int err = errno_of(body);
  if (err == 0) return 0;
  errno = err;
  return -1;
}

// Functions returning a pointer: the body's result, or NULL with errno set.
template <class T, class F>
T* pointer_call(F&& body) noexcept {
  T* result = nullptr;
  int err = errno_of([&] { result = body(); });
  if (err == 0) return result;
  errno = err;
  return nullptr;
}

// NULL arguments that upstream would crash on are EINVAL here.
inline void require(bool ok) {
  if (!ok) throw Error(EINVAL, "invalid argument");
}

}  // namespace cfs::capi
