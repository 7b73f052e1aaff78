#include "oci/cstor/storage.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <toml++/toml.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/error.h"
#include "net/http.h"
#include "store/beneath.h"

namespace cfs::oci::cstor {
namespace {

using json = nlohmann::json;

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// storage.conf's keys we read: "graphroot", "rootless_storage_path" ([storage]) and
// "additionalimagestores" ([storage.options]), as lists of strings.
std::map<std::string, std::vector<std::string>> read_storage_conf(const std::string& text,
                                                                  const std::string& path) {
  std::map<std::string, std::vector<std::string>> out;
  toml::table conf;
  try {
    conf = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    throw Error(EINVAL, path + ": " + std::string(e.description()));
  }
  auto take = [&](toml::node_view<toml::node> n, const std::string& key) {
    if (auto s = n.value<std::string>()) out[key].push_back(*s);
    if (toml::array* a = n.as_array()) {
      for (toml::node& v : *a) {
        if (auto s = v.value<std::string>()) out[key].push_back(*s);
      }
    }
  };
  take(conf["storage"]["graphroot"], "storage.graphroot");
  take(conf["storage"]["rootless_storage_path"], "storage.rootless_storage_path");
  take(conf["storage"]["options"]["additionalimagestores"],
       "storage.options.additionalimagestores");
  return out;
}

json parse_json_file(const std::string& path) {
  std::optional<std::string> text = read_file(path);
  if (!text) throw Error(errno, path + ": " + std::strerror(errno));
  json j = json::parse(*text, nullptr, false);
  if (j.is_discarded()) throw_corrupt(path + ": invalid JSON");
  return j;
}

std::string str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

bool is_hex_prefix(const std::string& s) {
  return !s.empty() && s.size() <= 64 &&
         s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// How podman matches a name: exactly, with ":latest" added when it has no tag or digest, and
// as the last components of a full name ("x:1" matches "localhost/x:1").
bool name_matches(const std::string& stored, const std::string& ref) {
  std::string want = ref;
  std::size_t slash = want.rfind('/');
  if (want.find('@') == std::string::npos &&
      want.find(':', slash == std::string::npos ? 0 : slash) == std::string::npos)
    want += ":latest";
  for (const std::string& w : {ref, want}) {
    if (stored == w || (stored.size() > w.size() && stored.ends_with(w) &&
                        stored[stored.size() - w.size() - 1] == '/'))
      return true;
  }
  return false;
}

// containers-storage's file name for a metadata key: the key itself when it is only [.0-9a-z],
// else "=" and its base64.
std::string big_data_name(const std::string& key) {
  bool plain = !key.empty() &&
               key.find_first_not_of(".0123456789abcdefghijklmnopqrstuvwxyz") == std::string::npos;
  return plain ? key : "=" + net::base64_encode(key);
}

std::vector<Layer> layer_chain(const std::string& store, const std::string& top) {
  std::string path = store + "/overlay-layers/layers.json";
  json all = parse_json_file(path);
  if (!all.is_array()) throw_corrupt(path + ": not a list of layers");
  std::map<std::string, const json*> by_id;
  for (const json& l : all) {
    if (l.is_object()) by_id[str(l, "id")] = &l;
  }
  std::vector<Layer> chain;
  for (std::string id = top; !id.empty();) {
    auto it = by_id.find(id);
    if (it == by_id.end()) throw_corrupt(path + ": no layer " + id);
    if (chain.size() > by_id.size()) throw_corrupt(path + ": a loop of parent layers");
    const json& l = *it->second;
    if (auto flags = l.find("flags");
        flags != l.end() && flags->is_object() && flags->value("incomplete", false)) {
      throw Error(
          EBUSY, "layer " + id + " is incomplete (podman is still writing it, or was interrupted)");
    }
    Layer layer{id, str(l, "parent"), str(l, "diff-digest"), 0};
    if (auto s = l.find("diff-size"); s != l.end() && s->is_number_unsigned()) layer.diff_size = *s;
    if (layer.diff_digest.empty())
      throw Error(EBUSY, "layer " + id + " has no diff digest yet (podman is still writing it?)");
    chain.push_back(layer);
    id = layer.parent;
  }
  return {chain.rbegin(), chain.rend()};
}

bool is_metacopy(int fd) {
  for (const char* name : {"trusted.overlay.metacopy", "user.overlay.metacopy"}) {
    if (::fgetxattr(fd, name, nullptr, 0) >= 0) return true;
  }
  return false;
}

}  // namespace

std::vector<std::string> discover_stores(const std::optional<std::string>& explicit_root) {
  bool root = ::geteuid() == 0;
  std::string home = env("HOME");
  std::vector<std::string> candidates;
  if (!env("CONTAINERS_STORAGE_CONF").empty()) {
    candidates = {env("CONTAINERS_STORAGE_CONF")};
  } else if (root) {
    candidates = {"/etc/containers/storage.conf", "/usr/share/containers/storage.conf"};
  } else {
    std::string config_home =
        !env("XDG_CONFIG_HOME").empty() ? env("XDG_CONFIG_HOME") : home + "/.config";
    candidates = {config_home + "/containers/storage.conf"};
  }
  std::map<std::string, std::vector<std::string>> keys;
  for (const std::string& path : candidates) {
    if (std::optional<std::string> text = read_file(path)) {
      keys = read_storage_conf(*text, path);
      break;
    }
  }
  auto first = [&](const char* key) {
    return keys.count(key) && !keys[key].empty() ? keys[key][0] : "";
  };
  std::vector<std::string> stores;
  if (explicit_root) {
    stores.push_back(*explicit_root);
  } else if (root) {
    stores.push_back(!first("storage.graphroot").empty() ? first("storage.graphroot")
                                                         : "/var/lib/containers/storage");
  } else {
    std::string data_home =
        !env("XDG_DATA_HOME").empty() ? env("XDG_DATA_HOME") : home + "/.local/share";
    std::string path = first("storage.rootless_storage_path");
    stores.push_back(!path.empty() ? path : data_home + "/containers/storage");
  }
  for (const std::string& s : keys["storage.options.additionalimagestores"]) stores.push_back(s);
  std::istringstream opts(env("STORAGE_OPTS"));
  for (std::string opt; std::getline(opts, opt, ',');) {
    for (const char* prefix : {"additionalimagestore=", "overlay.additionalimagestore="}) {
      if (opt.starts_with(prefix)) stores.push_back(opt.substr(std::strlen(prefix)));
    }
  }
  return stores;
}

Image find_image(const std::vector<std::string>& stores, const std::string& ref) {
  std::string id_ref = ref.starts_with('@')         ? ref.substr(1)
                       : ref.starts_with("sha256:") ? ref.substr(7)
                                                    : ref;
  bool by_id = is_hex_prefix(id_ref) && (ref.starts_with('@') || id_ref.size() >= 12);
  if (ref.starts_with('@') && !by_id) throw Error(EINVAL, "not an image ID: " + ref);
  std::vector<Image> found;
  for (const std::string& store : stores) {
    std::string path = store + "/overlay-images/images.json";
    if (::access(path.c_str(), F_OK) != 0 && errno == ENOENT)
      continue;  // a store with no images yet
    json images = parse_json_file(path);
    if (!images.is_array()) throw_corrupt(path + ": not a list of images");
    for (const json& img : images) {
      if (!img.is_object()) continue;
      std::string id = str(img, "id");
      bool match = by_id && id.starts_with(id_ref);
      if (!by_id) {
        if (auto names = img.find("names"); names != img.end() && names->is_array()) {
          for (const json& n : *names)
            match = match || (n.is_string() && name_matches(n.get<std::string>(), ref));
        }
      }
      if (!match ||
          std::any_of(found.begin(), found.end(), [&](const Image& f) { return f.id == id; }))
        continue;
      found.push_back({store, id, {}});
      found.back().layers =
          str(img, "layer").empty() ? std::vector<Layer>{} : layer_chain(store, str(img, "layer"));
    }
  }
  std::string where = stores.size() == 1
                          ? "containers-storage " + stores[0]
                          : "containers-storage (" + std::to_string(stores.size()) + " stores)";
  if (found.empty()) throw Error(ENOENT, "no image " + ref + " in " + where);
  if (found.size() > 1)
    throw Error(EINVAL, "image " + ref + " is ambiguous in " + where + ": " + found[0].id +
                            " and " + found[1].id);
  return found[0];
}

std::optional<std::string> read_big_data(const Image& image, const std::string& key) {
  std::string path = image.store + "/overlay-images/" + image.id + "/" + big_data_name(key);
  std::optional<std::string> text = read_file(path);
  if (!text && errno != ENOENT) throw Error(errno, path + ": " + std::strerror(errno));
  return text;
}

std::vector<UniqueFd> layer_dirs(const Image& image, const Layer& layer) {
  std::string overlay = image.store + "/overlay/";
  std::vector<UniqueFd> dirs;
  auto open_dir = [&](const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!fd) throw Error(errno, path + ": " + std::strerror(errno));
    dirs.push_back(std::move(fd));
  };
  open_dir(overlay + layer.id + "/diff");
  std::optional<std::string> lower = read_file(overlay + layer.id + "/lower");
  std::istringstream links(lower.value_or(""));
  for (std::string link; std::getline(links, link, ':');) {  // "l/ABC:l/DEF", topmost first
    while (!link.empty() && (link.back() == '\n' || link.back() == ' ')) link.pop_back();
    if (!link.starts_with("l/") || link.find('/', 2) != std::string::npos || link.size() < 3)
      throw_corrupt(overlay + layer.id + "/lower: bad entry " + link);
    open_dir(overlay + link);  // a symlink to ../<id>/diff
  }
  return dirs;
}

UniqueFd open_layer_file(const std::vector<UniqueFd>& dirs, const std::string& name) {
  std::string path = name;
  while (path.starts_with("./") || path.starts_with('/'))
    path.erase(0, path.starts_with('/') ? 1 : 2);
  for (const UniqueFd& dir : dirs) {
    UniqueFd fd;
    try {
      fd = store::open_regular_beneath(dir.get(), path);
    } catch (const Error& e) {
      throw e.wrap("cannot read " + path + " in containers-storage");  // cfsctl adds the remedy
    }
    if (fd && !is_metacopy(fd.get())) return fd;
  }
  throw_corrupt("containers-storage has no file " + path +
                " for the layer (its diff/ directory is incomplete)");
}

UniqueFd open_tar_split(const Image& image, const Layer& layer) {
  std::string path = image.store + "/overlay-layers/" + layer.id + ".tar-split.gz";
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd)
    throw Error(errno, path + ": " + std::strerror(errno) +
                           (errno == ENOENT ? " (podman is still writing the layer?)" : ""));
  return fd;
}

}  // namespace cfs::oci::cstor
