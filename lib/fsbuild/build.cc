#include "fsbuild/build.h"

#include <algorithm>
#include <thread>

namespace cfs::fsbuild {

void build(int dir_fd, const BuildOptions& options, tree::Tree& tree) {
  unsigned threads = options.threads != 0 ? options.threads : std::max(1U, std::thread::hardware_concurrency());
  FileHasher hasher(tree, dir_fd, threads, options.store, options.progress, options.algorithm);
  scan(dir_fd, options.scan, tree, [&](tree::Node& file) { hasher.add(file); });
  hasher.finish();
}

}  // namespace cfs::fsbuild
