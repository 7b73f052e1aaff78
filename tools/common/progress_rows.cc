#include "common/progress_rows.h"

#include <unistd.h>

#include <cstdio>
#include <string>

#include "base/file_io.h"

namespace cfs::cli {
namespace {

std::string mib(std::uint64_t n) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(n) / 1048576);
  return buf;
}

std::string line_of(const ProgressRows::Row& r) {
  std::string name = r.name.substr(r.name.find(':') + 1, 12);
  std::string out = "Copying blob " + name + " ";
  switch (r.state) {
    case ProgressRows::State::kSkipped:
      return out + "skipped: already exists";
    case ProgressRows::State::kDone:
      return out + "done";
    case ProgressRows::State::kWaiting:
      return out + "waiting";
    case ProgressRows::State::kRunning:
      break;
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - r.started).count();
  double rate = secs > 0 ? static_cast<double>(r.done) / secs : 0;
  return out + mib(r.done) + " / " + mib(r.total) + "  " + mib(static_cast<std::uint64_t>(rate)) +
         "/s";
}

}  // namespace

ProgressRowsView::ProgressRowsView(const ProgressRows& rows, bool enabled) : rows_(rows) {
  if (enabled && ::isatty(STDERR_FILENO))
    thread_ = std::jthread([this](std::stop_token st) { run(st); });
}

ProgressRowsView::~ProgressRowsView() {
  if (!thread_.joinable()) return;
  thread_.request_stop();
  thread_.join();
  if (drawn_ == 0) draw();  // a pull quicker than the first frame still shows its rows once
  if (drawn_ > 0) write_all(STDERR_FILENO, "\r\033[" + std::to_string(drawn_) + "A\033[J");
}

void ProgressRowsView::draw() {
  std::string out = drawn_ > 0 ? "\033[" + std::to_string(drawn_) + "A" : "";
  std::vector<ProgressRows::Row> rows = rows_.snapshot();
  for (const ProgressRows::Row& r : rows) out += "\r\033[K" + line_of(r) + "\n";
  drawn_ = rows.size();
  write_all(STDERR_FILENO, out);
}

void ProgressRowsView::run(std::stop_token st) {
  for (bool first = true; !st.stop_requested(); first = false) {
    for (int i = 0; !first && i < 10 && !st.stop_requested(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    if (st.stop_requested()) break;
    draw();
  }
}

}  // namespace cfs::cli
