#include "fsbuild/digests.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "base/error.h"
#include "base/unique_fd.h"
#include "fsbuild/scan.h"
#include "store/store.h"
#include "verity/measure.h"

namespace cfs::fsbuild {
namespace {

constexpr std::uint64_t kInlineMax = 64;

void collect(tree::Node& n, std::vector<tree::Node*>& files) {
  if (n.type() == 0100000 && !n.is_alias() && n.size > 0) files.push_back(&n);
  for (tree::Node* c : n.children) collect(*c, files);
}

void process(tree::Node& n, const std::string& path, store::ObjectStore* store) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY));
  if (!fd) throw_errno(errno, path);
  try {
    Digest d = verity::compute_from_file(fd.get(), n.size);
    n.digest = d;
    n.payload = object_path(d);
    if (n.size <= kInlineMax) {
      n.content.resize(n.size);
      ssize_t got = ::pread(fd.get(), n.content.data(), n.size, 0);
      if (got < 0) throw_errno(errno);
      if (static_cast<std::uint64_t>(got) != n.size) throw_errno(ENODATA);
    } else if (store != nullptr) {
      store->put(d, fd.get(), n.size);
    }
  } catch (const Error& e) {
    throw Error(e.code(), path + ": " + e.what());
  }
}

}  // namespace

void hash_files(tree::Tree& tree, const std::string& source, unsigned threads,
                store::ObjectStore* store, Progress* progress) {
  std::vector<tree::Node*> files;
  collect(*tree.root(), files);
  if (progress != nullptr) {
    std::uint64_t bytes = 0;
    for (const tree::Node* f : files) bytes += f->size;
    progress->bytes_total = bytes;
    progress->files_total = files.size();
  }
  std::atomic<std::size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr first_error;
  std::mutex error_mutex;
  auto worker = [&] {
    for (std::size_t i; !failed && (i = next++) < files.size();) {
      try {
        process(*files[i], source_path(source, *files[i]), store);
        if (progress != nullptr) {
          progress->files_done += 1;
          progress->bytes_done += files[i]->size;
        }
      } catch (...) {
        std::lock_guard lock(error_mutex);
        if (!failed.exchange(true)) first_error = std::current_exception();
      }
    }
  };
  threads = std::max(1U, std::min<unsigned>(threads, static_cast<unsigned>(files.size())));
  std::vector<std::jthread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  pool.clear();
  if (first_error) std::rethrow_exception(first_error);
  if (store != nullptr) store->flush();
}

}  // namespace cfs::fsbuild
