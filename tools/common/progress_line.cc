#include "common/progress_line.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "base/file_io.h"

namespace cfs::cli {

ProgressLine::ProgressLine(const Progress& p, const char* what) : p_(p), what_(what) {
  if (::isatty(STDERR_FILENO)) thread_ = std::jthread([this](std::stop_token st) { run(st); });
}

ProgressLine::~ProgressLine() {
  if (!thread_.joinable()) return;
  thread_.request_stop();
  thread_.join();
  write_all(STDERR_FILENO, "\r\033[K");
}

void ProgressLine::run(std::stop_token st) {
  auto start = std::chrono::steady_clock::now();
  for (bool first = true; !st.stop_requested(); first = false) {
    // At once, then every 250 ms (a short operation still shows that it ran).
    for (int i = 0; !first && i < 10 && !st.stop_requested(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(25));
    if (st.stop_requested()) break;
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    double done = static_cast<double>(p_.bytes_done), total = static_cast<double>(p_.bytes_total);
    double rate = secs > 0 ? done / secs : 0;
    double eta = rate > 0 ? (total - done) / rate : 0;
    char buf[200];
    std::snprintf(buf, sizeof buf, "\r\033[K%llu/%llu %s, %.1f/%.1f MiB, %.1f MiB/s, ETA %.0f s",
                  static_cast<unsigned long long>(p_.files_done.load()),
                  static_cast<unsigned long long>(p_.files_total.load()), what_, done / 1048576, total / 1048576,
                  rate / 1048576, eta);
    write_all(STDERR_FILENO, buf);
  }
}

}  // namespace cfs::cli
