// A live "files, MiB, throughput, ETA" line on stderr while a long operation runs (building,
// checking); nothing at all unless stderr is a terminal (scripts parse our output). Layer: tools.
#pragma once

#include <thread>

#include "base/progress.h"

namespace cfs::cli {

class ProgressLine {
 public:
  // `what` names the units ("files", "objects").
  explicit ProgressLine(const Progress& p, const char* what = "files");
  ~ProgressLine();  // clears the line
  // Whether a line is drawn (stderr is a terminal): counting what it shows is owed only then.
  bool shown() const { return thread_.joinable(); }

 private:
  void run(std::stop_token st);
  const Progress& p_;
  const char* what_;
  std::jthread thread_;
};

}  // namespace cfs::cli
