// A live line per row of a ProgressRows on stderr (a pull's layers: bytes, speed, done or
// skipped, as podman and composefs-rs show them), erased when done so that only the summary
// stays; nothing at all unless stderr is a terminal. Layer: tools.
#pragma once

#include <thread>

#include "base/progress.h"

namespace cfs::cli {

class ProgressRowsView {
 public:
  // `enabled` false (--quiet): nothing is drawn.
  ProgressRowsView(const ProgressRows& rows, bool enabled);
  ~ProgressRowsView();  // draws the rows as they ended, then erases the lines

 private:
  void run(std::stop_token st);
  void draw();
  const ProgressRows& rows_;
  std::size_t drawn_ = 0;
  std::jthread thread_;
};

}  // namespace cfs::cli
