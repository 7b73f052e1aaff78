#include "repo/fsck.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "base/error.h"
#include "base/file_io.h"
#include "base/unique_fd.h"
#include "repo/image_objects.h"
#include "repo/layout.h"
#include "repo/splitstream.h"
#include "verity/measure.h"

namespace cfs::repo {
namespace {

// Sorted, so that reports list things in a stable order.
std::vector<std::string> sorted_entries(int dir_fd, const std::string& dir) {
  std::vector<std::string> out = dir_entries(dir_fd, dir);
  std::sort(out.begin(), out.end());
  return out;
}

class Checker {
 public:
  Checker(Repository& repo, FsckReport& report, Progress* progress)
      : repo_(repo), fd_(repo.fd()), r_(report), progress_(progress) {}

  void metadata() {
    try {
      UniqueFd meta = open_repo_file(fd_, "meta.json");
      r_.has_metadata = bool(meta);
      if (!meta) return;
      std::vector<std::byte> bytes = read_all(meta.get());
      Meta m = Meta::parse(std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
      if (m.algorithm != repo_.algorithm()) {
        error("metadata-algorithm-mismatch", "meta.json",
              "expected " + algorithm_name(m.algorithm) + ", repository opened as " + std::string(hash_name(repo_.algorithm())));
        r_.metadata_error = true;
      }
    } catch (const Error& e) {
      error("metadata-parse-failed", "meta.json", e.what());
      r_.metadata_error = true;
    }
  }

  // One thread per CPU, each taking objects/xx directories in turn.
  void objects() {
    if (progress_ != nullptr) count_objects();
    std::atomic<int> next{0};
    auto work = [&] {
      for (int i; (i = next++) < 256;) check_object_dir(i);
    };
    std::vector<std::thread> threads;
    unsigned n = std::max(1U, std::thread::hardware_concurrency());
    for (unsigned t = 1; t < n; ++t) threads.emplace_back(work);
    work();
    for (std::thread& t : threads) t.join();
    if (first_failure_) std::rethrow_exception(first_failure_);
  }

  // What the progress line shows as the total: the objects and their sizes.
  void count_objects() {
    for (int i = 0; i < 256; ++i) {
      char sub[3];
      std::snprintf(sub, sizeof sub, "%02x", i);
      std::string dir = std::string("objects/") + sub;
      if (!is_object_dir(dir)) continue;
      for (const std::string& name : dir_entries(fd_, dir)) {
        struct stat st {};
        if (::fstatat(fd_, (dir + "/" + name).c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
        ++progress_->files_total;
        progress_->bytes_total += static_cast<std::uint64_t>(st.st_size);
      }
    }
  }

  void streams() {
    for (const std::string& name : sorted_entries(fd_, "streams")) {
      if (name == "refs") continue;
      ++r_.streams_checked;
      std::string path = "streams/" + name;
      if (!top_level_link(path, r_.streams_corrupted)) continue;
      std::string text = link_text(fd_, path);
      std::optional<Digest> object = linked_object(text, repo_.algorithm());
      if (!object) {
        error("link-target-invalid", path, text + " is not ../objects/<an object>");
        ++r_.streams_corrupted;
        continue;
      }
      SplitStreamRefs refs;
      try {
        UniqueFd fd = open_repo_file(fd_, "objects/" + object_path(*object));
        if (!fd) throw_errno(ENOENT);
        MappedFile file = MappedFile::open(fd.get());
        refs = read_splitstream_refs(file.bytes(), repo_.algorithm(), true);
      } catch (const Error& e) {
        error("stream-open-failed", path, e.what());
        ++r_.streams_corrupted;
        continue;
      }
      auto exists = [&](const Digest& d) { return has_repo_file(fd_, "objects/" + object_path(d)); };
      for (const Digest& d : refs.object_refs) {
        if (exists(d)) continue;
        error("missing-object-ref", path, to_hex(d));
        ++r_.missing_objects;
      }
      for (const auto& [index, ref_name] : refs.named_refs) {
        const Digest& d = refs.stream_refs[index];
        if (exists(d)) continue;
        error("missing-named-ref", path, "ref " + ref_name + ": " + to_hex(d));
        ++r_.missing_objects;
      }
    }
    refs_tree("streams");
  }

  void images() {
    for (const std::string& name : sorted_entries(fd_, "images")) {
      if (name == "refs") continue;
      ++r_.images_checked;
      std::string path = "images/" + name;
      if (!top_level_link(path, r_.images_corrupted)) continue;
      std::optional<Digest> id = image_id(name);
      if (!id) {
        error("image-invalid-name", path, "not an image ID");
        ++r_.images_corrupted;
        continue;
      }
      std::string self = "objects/" + object_path(*id);
      if (std::string text = link_text(fd_, path); linked_object(text, repo_.algorithm()) != id) {
        error("link-target-invalid", path, text + " is not its object ../" + self);
        ++r_.images_corrupted;
        continue;
      }
      if (bad_objects_.contains(self)) r_.affected_images[name].insert(self);  // the image's own object
      UniqueFd image;
      try {
        image = open_repo_file(fd_, self);
        if (!image) throw_errno(ENOENT);
      } catch (const Error& e) {
        error("image-open-failed", path, e.what());
        ++r_.images_corrupted;
        continue;
      }
      std::set<std::string> objects;
      try {
        objects = image_object_paths(image.get());
      } catch (const Error& e) {
        error("image-invalid", path, e.what());
        ++r_.images_corrupted;
        continue;
      }
      for (const std::string& o : objects) {
        std::string object = "objects/" + o;
        if (!has_repo_file(fd_, object)) {
          error("image-missing-object", path, hex_of_object(o));
          ++r_.missing_objects;
          r_.affected_images[name].insert(object);
        } else if (bad_objects_.contains(object)) {
          r_.affected_images[name].insert(object);
        }
      }
    }
    refs_tree("images");
  }

 private:
  std::optional<Digest> image_id(const std::string& name) const {
    std::optional<Digest> id = parse_hex_digest(name, repo_.algorithm());
    return id && to_hex(*id) == name ? id : std::nullopt;
  }

  // Whether objects/xx is a directory to look into; anything else there is an error (a
  // symlink is not followed out of the repository).
  bool is_object_dir(const std::string& dir) {
    struct stat st {};
    if (::fstatat(fd_, dir.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno != ENOENT) error("stat-failed", dir, std::strerror(errno));
      return false;
    }
    if (S_ISDIR(st.st_mode)) return true;
    error("unexpected-file-type", dir, "not a directory");
    return false;
  }

  void error(const std::string& kind, const std::string& path, const std::string& detail = {}) {
    std::lock_guard lock(mutex_);
    r_.errors.push_back("fsck: " + kind + ": " + path + (detail.empty() ? "" : ": " + detail));
  }

  static std::string hex_of_object(const std::string& object_path) {
    std::string hex = object_path;
    hex.erase(std::remove(hex.begin(), hex.end(), '/'), hex.end());
    return hex;
  }

  void check_object_dir(int i) {
    char sub[3];
    std::snprintf(sub, sizeof sub, "%02x", i);
    std::string dir = std::string("objects/") + sub;
    try {
      if (!is_object_dir(dir)) return;
      for (const std::string& name : sorted_entries(fd_, dir)) check_object(dir, sub, name);
    } catch (...) {
      std::lock_guard lock(mutex_);
      if (!first_failure_) first_failure_ = std::current_exception();
    }
  }

  void check_object(const std::string& dir, const char* sub, const std::string& name) {
    std::string path = dir + "/" + name;
    {
      std::lock_guard lock(mutex_);
      ++r_.objects_checked;
    }
    auto bad = [&](const std::string& kind, const std::string& detail) {
      error(kind, path, detail);
      std::lock_guard lock(mutex_);
      ++r_.objects_corrupted;
      bad_objects_.insert(path);
    };
    std::optional<Digest> named = parse_hex_digest(sub + name, repo_.algorithm());
    if (!named) return bad("object-invalid-name", "not " + std::to_string(2 * digest_size(repo_.algorithm())) + " hex digits");
    UniqueFd fd;
    try {
      fd = open_repo_file(fd_, path);
      if (!fd) throw_errno(ENOENT);
    } catch (const Error& e) {
      return bad("object-open-failed", e.what());
    }
    std::optional<Digest> measured;
    try {
      measured = verity::kernel_measure(fd.get(), repo_.algorithm());
      if (!measured && repo_.secure()) {
        error("object-verity-missing", path);
        std::lock_guard lock(mutex_);
        ++r_.objects_corrupted;
        bad_objects_.insert(path);
        return;
      }
      if (!measured) measured = verity::compute_from_fd(fd.get(), repo_.algorithm());
    } catch (const Error& e) {
      return bad("object-verity-failed", e.what());
    }
    if (*measured != *named) bad("object-digest-mismatch", "measured " + to_hex(*measured));
    if (progress_ != nullptr) {
      struct stat st {};
      ++progress_->files_done;
      if (::fstat(fd.get(), &st) == 0) progress_->bytes_done += static_cast<std::uint64_t>(st.st_size);
    }
  }

  // A top-level entry of images/ or streams/: a link whose target exists.
  bool top_level_link(const std::string& path, std::uint64_t& corrupted) {
    struct stat st {};
    if (::fstatat(fd_, path.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      error("stat-failed", path, std::strerror(errno));
      return false;
    }
    if (!S_ISLNK(st.st_mode)) {
      error("entry-not-symlink", path);
      ++corrupted;
      return false;
    }
    if (::fstatat(fd_, path.c_str(), &st, 0) != 0) {
      if (errno != ENOENT) {
        error("stat-failed", path, std::strerror(errno));
        return false;
      }
      error("broken-symlink", path);
      ++r_.broken_links;
      ++corrupted;
      return false;
    }
    return true;
  }

  // <category>/refs/<ref>: directories, and links to an entry of <category>/ spelled as
  // composefs-rs writes them ("../" per component of the ref, then the entry; for images/, an
  // image ID).
  void refs_tree(const std::string& category, const std::string& ref_dir = "") {
    std::string dir = category + "/refs" + (ref_dir.empty() ? "" : "/" + ref_dir);
    for (const std::string& name : sorted_entries(fd_, dir)) {
      std::string ref = ref_dir.empty() ? name : ref_dir + "/" + name;
      std::string path = dir + "/" + name;
      struct stat st {};
      if (::fstatat(fd_, path.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        error("stat-failed", path, std::strerror(errno));
        continue;
      }
      if (S_ISDIR(st.st_mode)) {
        refs_tree(category, ref);
        continue;
      }
      if (!S_ISLNK(st.st_mode)) {
        error("unexpected-file-type", path, "neither a directory nor a symlink");
        continue;
      }
      std::string text = link_text(fd_, path);
      std::optional<std::string> entry = ref_entry(ref, text);
      if (!entry || (category == "images" && !image_id(*entry))) {
        error("link-target-invalid", path, text + " is not ../" + std::string(category == "images" ? "<an image ID>" : "<a stream>"));
      } else if (::fstatat(fd_, (category + "/" + *entry).c_str(), &st, 0) != 0) {
        error("broken-symlink", path);
        ++r_.broken_links;
      }
    }
  }

  Repository& repo_;
  int fd_;
  FsckReport& r_;
  Progress* progress_;
  std::mutex mutex_;
  std::exception_ptr first_failure_;
  std::set<std::string> bad_objects_;  // "objects/xx/rest" found corrupt
};

}  // namespace

FsckReport fsck(Repository& repo, bool metadata_only, Progress* progress) {
  FsckReport r;
  Checker c(repo, r, progress);
  c.metadata();
  if (!metadata_only) c.objects();
  c.streams();
  c.images();
  return r;
}

std::string FsckReport::text() const {
  auto ratio = [](std::uint64_t checked, std::uint64_t bad) {
    return std::to_string(checked - std::min(checked, bad)) + "/" + std::to_string(checked) + " ok";
  };
  std::string out = std::string("meta.json: ") + (!has_metadata ? "absent" : metadata_error ? "error" : "ok") + "\n";
  out += "objects: " + ratio(objects_checked, objects_corrupted) + "\n";
  out += "streams: " + ratio(streams_checked, streams_corrupted) + "\n";
  out += "images: " + ratio(images_checked, images_corrupted) + "\n";
  if (broken_links != 0) out += "broken symlinks: " + std::to_string(broken_links) + "\n";
  if (missing_objects != 0) out += "missing objects: " + std::to_string(missing_objects) + "\n";
  if (ok()) return out + "status: ok\n";
  out += "status: " + std::to_string(errors.size()) + " error(s)\n";
  for (const std::string& e : errors) out += "  - " + e + "\n";
  for (const auto& [image, objects] : affected_images) {
    out += "affected image " + image + ":";
    for (const std::string& o : objects) out += " " + o;
    out += "\n";
  }
  return out;
}

std::string FsckReport::json() const {
  nlohmann::ordered_json j;
  j["ok"] = ok();
  j["has_metadata"] = has_metadata;
  j["objects_checked"] = objects_checked;
  j["objects_corrupted"] = objects_corrupted;
  j["streams_checked"] = streams_checked;
  j["streams_corrupted"] = streams_corrupted;
  j["images_checked"] = images_checked;
  j["images_corrupted"] = images_corrupted;
  j["broken_links"] = broken_links;
  j["missing_objects"] = missing_objects;
  j["errors"] = errors;
  return j.dump(2) + "\n";
}

}  // namespace cfs::repo
