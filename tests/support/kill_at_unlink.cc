// A crash at a chosen point, for tests of what a killed command leaves behind:
//   LD_PRELOAD=libkill_at_unlink.so CFS_KILL_AT_UNLINK=N COMMAND...
// The process kills itself with SIGKILL right after its N-th unlinkat(2) call returns
// (N counts from 1); without the variable, unlinkat works as usual.
#include <dlfcn.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>

extern "C" int unlinkat(int dir_fd, const char* path, int flags) {
  using Real = int (*)(int, const char*, int);
  static const Real real = reinterpret_cast<Real>(::dlsym(RTLD_NEXT, "unlinkat"));
  static const long kill_at = [] {
    const char* n = std::getenv("CFS_KILL_AT_UNLINK");
    return n != nullptr ? std::atol(n) : 0L;
  }();
  static std::atomic<long> calls{0};
  int result = real(dir_fd, path, flags);
  if (++calls == kill_at) ::kill(::getpid(), SIGKILL);
  return result;
}
