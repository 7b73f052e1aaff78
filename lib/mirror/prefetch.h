// What an image needs from a mirror, and fetching it ahead of use: every backing object of an
// image (prefetch=all, cfsctl fetch), or those a record file lists (prefetch=FILE), fetched by
// background threads while the mount already answers. Layer: mirror.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/digest.h"
#include "mirror/mirror_source.h"
#include "reader/image.h"
#include "store/object_source.h"

namespace cfs::mirror {

struct WantedObject {
  std::string path;               // "xx/<rest>", as the image's redirect names it
  std::optional<Digest> digest;   // the image's, where it records one
  std::uint64_t size = 0;
  store::ObjectRef ref() const { return {path, digest, size}; }
};

// Each backing object of `image` once, in the image's walk order (breadth-first by directory).
// Redirects that do not name a file beneath a basedir are left out (they are never opened).
std::vector<WantedObject> image_objects(const reader::Image& image);

// The objects of `all` that `record` (a record file's text: one "xx/<rest>" per line) lists,
// in the record's order; lines the image does not name are ignored.
std::vector<WantedObject> recorded_objects(const std::vector<WantedObject>& all, std::string_view record);

// Fetches `objects` that the source lacks with `threads` threads, in order; stops early when
// destroyed. Failures are counted (a later open reports its own).
class Prefetcher {
 public:
  using Log = std::function<void(const std::string&)>;
  Prefetcher(const MirrorSource& source, std::vector<WantedObject> objects, unsigned threads, Log log);
  ~Prefetcher();
  Prefetcher(const Prefetcher&) = delete;
  Prefetcher& operator=(const Prefetcher&) = delete;

  bool finished() const { return running_ == 0; }

 private:
  void run();

  const MirrorSource& source_;
  std::vector<WantedObject> objects_;
  Log log_;
  std::atomic<std::size_t> next_{0}, fetched_{0}, failed_{0};
  std::atomic<unsigned> running_{0};
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
};

}  // namespace cfs::mirror
