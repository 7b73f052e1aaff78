#include "repo/gc.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <map>
#include <set>

#include "base/error.h"
#include "base/file_io.h"
#include "base/unique_fd.h"
#include "repo/image_objects.h"
#include "repo/layout.h"
#include "repo/splitstream.h"

namespace cfs::repo {
namespace {

bool is_symlink(int dir_fd, const std::string& path) {
  struct stat st {};
  return ::fstatat(dir_fd, path.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
}

bool resolves(int dir_fd, const std::string& path) {
  struct stat st {};
  return ::fstatat(dir_fd, path.c_str(), &st, 0) == 0;
}

// Every symlink below `dir` (recursively), as paths relative to the repository.
void refs_below(int repo_fd, const std::string& dir, std::vector<std::string>& out) {
  for (const std::string& name : dir_entries(repo_fd, dir)) {
    std::string path = dir + "/" + name;
    struct stat st {};
    if (::fstatat(repo_fd, path.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) throw_errno(errno, path);
    if (S_ISLNK(st.st_mode)) {
      out.push_back(path);
    } else if (S_ISDIR(st.st_mode)) {
      refs_below(repo_fd, path, out);
    } else {
      throw Error(EINVAL, "Unexpected file type encountered: " + path);
    }
  }
}

class Marker {
 public:
  explicit Marker(Repository& repo) : repo_(repo), fd_(repo.fd()) {}

  // images/<hex>: the image object and every object its files name. The link must be to the
  // object of that hex (anything else is for fsck to name, not for gc to guess at).
  void mark_image(const std::string& hex) {
    if (!images_.insert(hex).second) return;
    std::string link = "images/" + hex;
    std::string text = link_text(fd_, link);
    std::optional<Digest> id = parse_hex_digest(hex, repo_.algorithm());
    if (!id || linked_object(text, repo_.algorithm()) != id) {
      throw Error(ErrorKind::kCorrupt, EUCLEAN, link + " does not link to its object: " + text + " (nothing removed; run fsck)");
    }
    std::string object = object_path(*id);
    live_.insert(object);
    try {
      UniqueFd image = open_repo_file(fd_, "objects/" + object);
      if (!image) throw Error(ENOENT, "objects/" + object + ": No such file or directory");
      for (const std::string& p : image_object_paths(image.get())) live_.insert(p);
    } catch (const Error& e) {
      throw e.wrap("image " + hex + " (nothing removed)");
    }
  }

  // streams/<name>: the splitstream, the objects and streams it refers to, and, through those
  // that are streams themselves (known by their streams/ entries), theirs in turn.
  void mark_stream(const std::string& name) {
    std::vector<std::string> todo{name};
    while (!todo.empty()) {
      std::string s = std::move(todo.back());
      todo.pop_back();
      if (!streams_.insert(s).second) continue;
      std::string text = link_text(fd_, "streams/" + s);
      std::optional<Digest> linked = linked_object(text, repo_.algorithm());
      if (!linked) {
        throw Error(ErrorKind::kCorrupt, EUCLEAN, "streams/" + s + " does not link to an object: " + text + " (nothing removed; run fsck)");
      }
      std::string object = object_path(*linked);
      live_.insert(object);
      SplitStreamRefs refs;
      try {
        UniqueFd fd = open_repo_file(fd_, "objects/" + object);
        if (!fd) throw Error(ENOENT, "objects/" + object + ": No such file or directory");
        MappedFile file = MappedFile::open(fd.get());
        refs = read_splitstream_refs(file.bytes(), repo_.algorithm(), false);
      } catch (const Error& e) {
        throw e.wrap("stream " + s + " (nothing removed)");
      }
      for (const Digest& d : refs.object_refs) live_.insert(object_path(d));
      for (const Digest& d : refs.stream_refs) {
        std::string path = object_path(d);
        live_.insert(path);  // a stream, or an image a config names
        if (auto it = stream_names_.find(path); it != stream_names_.end()) todo.push_back(it->second);
      }
    }
  }

  // Which streams/ entry each splitstream object is.
  void know_stream(const std::string& name, const std::string& object) { stream_names_.emplace(object, name); }

  const std::set<std::string>& live() const { return live_; }

 private:
  Repository& repo_;
  int fd_;
  std::set<std::string> images_, streams_;
  std::map<std::string, std::string> stream_names_;  // "xx/rest" -> streams/ name
  std::set<std::string> live_;
};

}  // namespace

GcResult gc(Repository& repo, const std::vector<std::string>& roots, bool dry_run, const RefNeeds& needs) {
  if (!dry_run) {
    repo.check_writable();
    repo.lock(LOCK_EX);
  }
  struct RestoreShared {
    Repository& r;
    bool on;
    ~RestoreShared() {
      if (on) r.lock(LOCK_SH);
    }
  } restore{repo, !dry_run};
  int fd = repo.fd();
  std::size_t name_len = 2 * digest_size(repo.algorithm()) - 2;

  // Mark. Top-level images/ and streams/ entries must be links; every ref must reach one.
  Marker marker(repo);
  for (const std::string& name : dir_entries(fd, "images")) {
    if (name != "refs" && !is_symlink(fd, "images/" + name)) {
      throw Error(EINVAL, "category directory contains non-symlink: images/" + name);
    }
  }
  for (const std::string& name : dir_entries(fd, "streams")) {
    if (name == "refs") continue;
    if (!is_symlink(fd, "streams/" + name)) throw Error(EINVAL, "category directory contains non-symlink: streams/" + name);
    marker.know_stream(name, object_of_link(link_text(fd, "streams/" + name)));
  }
  // The entry of `category` a ref links to, as composefs-rs spells refs (fsck names others).
  auto entry_of = [&](const std::string& category, const std::string& ref) {
    std::string text = link_text(fd, ref);
    std::optional<std::string> entry = ref_entry(std::string_view(ref).substr(category.size() + 6), text);
    if (!entry) throw Error(ErrorKind::kCorrupt, EUCLEAN, ref + " does not link to an entry of " + category + "/: " + text + " (nothing removed; run fsck)");
    if (!is_symlink(fd, category + "/" + *entry)) throw Error(ENOENT, ref + ": its " + category + "/" + *entry + " is missing");
    return *entry;
  };
  std::vector<std::string> stream_refs;
  refs_below(fd, "streams/refs", stream_refs);
  std::vector<std::pair<std::string, std::string>> conditional;  // ref, the stream it needs
  for (const std::string& ref : stream_refs) {
    std::optional<std::string> need = needs ? needs(std::string_view(ref).substr(13)) : std::nullopt;
    if (need) conditional.emplace_back(ref, *need);
    else marker.mark_stream(entry_of("streams", ref));
  }
  std::vector<std::string> refs;
  refs_below(fd, "images/refs", refs);
  for (const std::string& ref : refs) marker.mark_image(entry_of("images", ref));
  for (const std::string& root : roots) {
    if (root.find('/') != std::string::npos) continue;
    if (is_symlink(fd, "images/" + root)) marker.mark_image(root);
    if (is_symlink(fd, "streams/" + root)) marker.mark_stream(root);
  }
  // Conditional refs whose stream is live mark in turn (what they keep may keep others).
  auto live_stream = [&](const std::string& name) {
    return is_symlink(fd, "streams/" + name) && marker.live().contains(object_of_link(link_text(fd, "streams/" + name)));
  };
  for (bool more = true; more;) {
    more = false;
    for (auto it = conditional.begin(); it != conditional.end();) {
      if (!live_stream(it->second)) {
        ++it;
        continue;
      }
      marker.mark_stream(entry_of("streams", it->first));
      it = conditional.erase(it);
      more = true;
    }
  }

  // Sweep: every object that is not live, after checking every name.
  struct Dead {
    std::string path;
    std::uint64_t size;
  };
  std::vector<Dead> dead;
  for (int i = 0; i < 256; ++i) {
    char sub[3];
    std::snprintf(sub, sizeof sub, "%02x", i);
    for (const std::string& name : dir_entries(fd, std::string("objects/") + sub)) {
      if (name.size() != name_len || !std::all_of(name.begin(), name.end(), [](char c) { return hex_digit(c) >= 0; })) {
        throw Error(EINVAL, "objects/" + std::string(sub) + "/" + name + ": not an object name (nothing removed)");
      }
      std::string object = std::string(sub) + "/" + name;
      if (marker.live().contains(object)) continue;
      struct stat st {};
      if (::fstatat(fd, ("objects/" + object).c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;  // gone meanwhile
      dead.push_back({"objects/" + object, static_cast<std::uint64_t>(st.st_size)});
    }
  }
  GcResult r;
  // Conditional refs left are dead: removed first, with their directory when it empties.
  for (const auto& [ref, need] : conditional) {
    if (!dry_run) {
      if (::unlinkat(fd, ref.c_str(), 0) != 0 && errno != ENOENT) throw_errno(errno, ref);
      ::unlinkat(fd, ref.substr(0, ref.rfind('/')).c_str(), AT_REMOVEDIR);  // fails while not empty
    }
    ++r.streams_pruned;
  }
  // Links to objects about to go (images/<hex>, streams/<name>) are removed first: a gc killed
  // halfway leaves unreferenced objects, never a link to a missing one.
  std::set<std::string> dead_paths;
  for (const Dead& d : dead) dead_paths.insert(d.path);
  auto unlink_dead_links = [&](const std::string& category, std::uint64_t& count) {
    for (const std::string& name : dir_entries(fd, category)) {
      std::string link = category + "/" + name;
      if (name == "refs" || !dead_paths.contains("objects/" + object_of_link(link_text(fd, link)))) continue;
      if (::unlinkat(fd, link.c_str(), 0) != 0 && errno != ENOENT) throw_errno(errno, link);
      ++count;
    }
  };
  if (!dry_run) {
    unlink_dead_links("images", r.images_pruned);
    unlink_dead_links("streams", r.streams_pruned);
  }
  for (const Dead& d : dead) {
    if (!dry_run && ::unlinkat(fd, d.path.c_str(), 0) != 0 && errno != ENOENT) throw_errno(errno, d.path);
    ++r.objects_removed;
    r.bytes_removed += d.size;
  }
  // A mirror's Merkle trees (cfsctl merkle) go with their objects.
  if (!dry_run) {
    for (const std::string& sub : dir_entries(fd, "merkle")) {
      for (const std::string& name : dir_entries(fd, "merkle/" + sub)) {
        struct stat st {};
        std::string object = sub + "/" + name;
        if (::fstatat(fd, ("objects/" + object).c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) continue;
        if (::unlinkat(fd, ("merkle/" + object).c_str(), 0) != 0 && errno != ENOENT) throw_errno(errno, "merkle/" + object);
      }
    }
  }

  // Prune links left dangling (in a dry run, only those dangling already).
  auto prune = [&](const std::string& category, std::uint64_t& count) {
    std::vector<std::string> links;
    for (const std::string& name : dir_entries(fd, category)) {
      if (name != "refs" && is_symlink(fd, category + "/" + name)) links.push_back(category + "/" + name);
    }
    refs_below(fd, category + "/refs", links);
    for (const std::string& l : links) {
      if (resolves(fd, l)) continue;
      if (!dry_run && ::unlinkat(fd, l.c_str(), 0) != 0 && errno != ENOENT) throw_errno(errno, l);
      ++count;
    }
  };
  prune("images", r.images_pruned);
  prune("streams", r.streams_pruned);
  return r;
}

std::string gc_report(const GcResult& r, bool dry_run) {
  std::string out = dry_run ? "Dry run (no files deleted):\n" : "";
  out += "Objects: " + std::to_string(r.objects_removed) + " removed (" + std::to_string(r.bytes_removed) + " bytes)\n";
  if (r.images_pruned != 0 || r.streams_pruned != 0) {
    out += "Pruned symlinks: " + std::to_string(r.images_pruned) + " images, " + std::to_string(r.streams_pruned) +
           " streams\n";
  }
  return out;
}

}  // namespace cfs::repo
