// Network work tried again: f() that fails with a kTransient Error (a reset, a timeout, a 5xx,
// a transfer too slow) is called again after a growing pause, up to kAttempts calls in all;
// any other Error, and the last transient one, reaches the caller. f() must start its work
// from the beginning (reopen what it reads). Layer: net.
#pragma once

#include <chrono>
#include <thread>

#include "base/error.h"

namespace cfs::net {

inline constexpr int kAttempts = 3;

template <class F>
auto with_retries(F&& f) -> decltype(f()) {
  for (int attempt = 1;; ++attempt) {
    try {
      return f();
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::kTransient || attempt == kAttempts) throw;
      std::this_thread::sleep_for(std::chrono::milliseconds(200 * attempt * attempt));
    }
  }
}

}  // namespace cfs::net
