#include "mirror/prefetch.h"

#include <sys/stat.h>

#include <map>
#include <set>

#include "base/error.h"
#include "format/composefs.h"
#include "reader/walk.h"

namespace cfs::mirror {

std::vector<WantedObject> image_objects(const reader::Image& image) {
  std::vector<WantedObject> out;
  std::set<std::string, std::less<>> seen;
  reader::walk(image, {}, [&](const reader::WalkEntry& e) {
    const tree::Node& n = e.inode;
    if (n.type() != S_IFREG || !n.content.empty() || n.payload.empty() || n.size == 0) return;
    std::optional<std::string_view> object = format::redirect_object(n.payload);
    if (!object || seen.contains(*object)) return;
    seen.emplace(*object);
    WantedObject w{std::string(*object), std::nullopt, n.size};
    if (n.digest) w.digest = *n.digest;
    out.push_back(std::move(w));
  });
  return out;
}

std::vector<WantedObject> recorded_objects(const std::vector<WantedObject>& all, std::string_view record) {
  std::map<std::string_view, const WantedObject*> by_path;
  for (const WantedObject& w : all) by_path.emplace(w.path, &w);
  std::vector<WantedObject> out;
  while (!record.empty()) {
    std::size_t nl = record.find('\n');
    std::string_view line = record.substr(0, nl);
    record.remove_prefix(nl == std::string_view::npos ? record.size() : nl + 1);
    auto it = by_path.find(line);
    if (it == by_path.end()) continue;
    out.push_back(*it->second);
    by_path.erase(it);  // listed twice: fetched once
  }
  return out;
}

Prefetcher::Prefetcher(const MirrorSource& source, std::vector<WantedObject> objects, unsigned threads, Log log)
    : source_(source), objects_(std::move(objects)), log_(std::move(log)) {
  unsigned n = std::max(1u, threads);
  running_ = n;
  for (unsigned i = 0; i < n; ++i) threads_.emplace_back([this] { run(); });
}

Prefetcher::~Prefetcher() {
  stop_ = true;
  for (std::thread& t : threads_) t.join();
}

void Prefetcher::run() {
  for (std::size_t i; !stop_ && (i = next_++) < objects_.size();) {
    try {
      if (source_.fetch(objects_[i].ref())) ++fetched_;
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::kCancelled) {  // the mount is going away
        stop_ = true;
        break;
      }
      ++failed_;
    } catch (...) {  // out of memory: counted, and nothing leaves the thread
      ++failed_;
    }
  }
  if (--running_ == 0 && !stop_ && log_) {
    try {
      log_("prefetch: " + std::to_string(fetched_) + " objects fetched, " + std::to_string(failed_) + " failed, of " +
           std::to_string(objects_.size()));
    } catch (...) {
    }
  }
}

}  // namespace cfs::mirror
