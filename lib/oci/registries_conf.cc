#include "oci/registries_conf.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>

#include "base/error.h"
#include "base/file_io.h"
#include "base/toml_file.h"
#include "oci/image_name.h"

namespace cfs::oci {
namespace {

constexpr std::size_t kNoMatch = std::string::npos;

// Typed access to one table of a file, errors naming the file, line and key.
class Reader {
 public:
  Reader(const std::string& source, const toml::table& table, std::string where)
      : source_(source), table_(table), where_(std::move(where)) {}

  template <class T>
  const T* get(const char* key, const char* expected) const {
    const toml::node* n = table_.get(key);
    if (n == nullptr) return nullptr;
    if (const T* v = n->as<T>()) return v;
    toml_invalid(source_, *n, where_ + key + ": expected " + expected);
  }
  std::string string(const char* key) const {
    const auto* v = get<toml::value<std::string>>(key, "a string");
    return v != nullptr ? v->get() : "";
  }
  bool boolean(const char* key) const {
    const auto* v = get<toml::value<bool>>(key, "a boolean");
    return v != nullptr && v->get();
  }
  std::vector<std::string> strings(const char* key) const {
    std::vector<std::string> out;
    if (const toml::array* a = get<toml::array>(key, "an array of strings")) {
      for (const toml::node& n : *a) {
        if (!n.is_string()) toml_invalid(source_, n, where_ + key + ": expected an array of strings");
        out.push_back(*n.value<std::string>());
      }
    }
    return out;
  }
  // The tables of an array of tables (`[[key]]`).
  std::vector<const toml::table*> tables(const char* key) const {
    std::vector<const toml::table*> out;
    if (const toml::array* a = get<toml::array>(key, "an array of tables")) {
      for (const toml::node& n : *a) {
        if (!n.is_table()) toml_invalid(source_, n, where_ + key + ": expected an array of tables");
        out.push_back(n.as_table());
      }
    }
    return out;
  }
  [[noreturn]] void fail(const char* key, const std::string& what) const {
    const toml::node* n = table_.get(key);
    toml_invalid(source_, n != nullptr ? *n : static_cast<const toml::node&>(table_), where_ + what);
  }

 private:
  const std::string& source_;
  const toml::table& table_;
  std::string where_;
};

std::string location_of(const Reader& r, const char* key) {
  std::string loc = r.string(key);
  while (loc.ends_with('/')) loc.pop_back();
  if (loc.find("://") != std::string::npos) r.fail(key, std::string(key) + " '" + loc + "': URI schemes are not supported");
  return loc;
}

RegistryEntry read_entry(const std::string& source, const toml::table& t) {
  Reader r(source, t, "[[registry]] ");
  RegistryEntry e;
  e.source = source;
  e.location = location_of(r, "location");
  e.prefix = r.string("prefix");
  while (e.prefix.ends_with('/')) e.prefix.pop_back();
  if (e.prefix.empty()) e.prefix = e.location;
  if (e.prefix.empty()) r.fail("location", "neither prefix nor location is set");
  if (e.prefix.starts_with("*.")) {
    if (e.prefix.find_first_of("/:@") != std::string::npos) {
      r.fail("prefix", "prefix '" + e.prefix + "': a wildcard prefix is a domain alone (*.example.com)");
    }
  } else if (e.location.empty()) {
    r.fail("prefix", "prefix '" + e.prefix + "' has no location (only a *.domain prefix may have none)");
  } else if (e.prefix.find('*') != std::string::npos) {
    r.fail("prefix", "prefix '" + e.prefix + "': '*' is allowed only as '*.' at its start");
  }
  e.insecure = r.boolean("insecure");
  e.blocked = r.boolean("blocked");
  e.mirror_by_digest_only = r.boolean("mirror-by-digest-only");
  for (const toml::table* m : r.tables("mirror")) {
    Reader mr(source, *m, "[[registry.mirror]] ");
    RegistryMirror mirror;
    mirror.location = location_of(mr, "location");
    if (mirror.location.empty()) mr.fail("location", "a mirror needs a location");
    mirror.insecure = mr.boolean("insecure");
    std::string use = mr.string("pull-from-mirror");
    if (use == "digest-only") mirror.use = MirrorUse::kDigestOnly;
    else if (use == "tag-only") mirror.use = MirrorUse::kTagOnly;
    else if (!use.empty() && use != "all") mr.fail("pull-from-mirror", "unsupported pull-from-mirror value \"" + use + "\" for mirror \"" + mirror.location + "\"");
    if (!use.empty() && e.mirror_by_digest_only) {
      mr.fail("pull-from-mirror", "pull-from-mirror cannot be set when the registry (\"" + e.prefix + "\") sets mirror-by-digest-only");
    }
    e.mirrors.push_back(std::move(mirror));
  }
  return e;
}

void put(std::vector<RegistryEntry>& all, RegistryEntry e) {
  auto same = std::find_if(all.begin(), all.end(), [&](const RegistryEntry& o) { return o.prefix == e.prefix; });
  if (same != all.end()) *same = std::move(e);
  else all.push_back(std::move(e));
}

// The v1 form: [registries.insecure] and [registries.block] registries = ["host", …].
void read_v1(RegistriesConf& conf, const std::string& source, const toml::table& v1) {
  for (const char* section : {"insecure", "block", "search"}) {
    const toml::node* n = v1.get(section);
    if (n == nullptr) continue;
    if (!n->is_table()) toml_invalid(source, *n, std::string("[registries.") + section + "]: expected a table");
    Reader r(source, *n->as_table(), std::string("[registries.") + section + "] ");
    for (const std::string& host : r.strings("registries")) {
      if (std::strcmp(section, "search") == 0) continue;  // short names: not ours (see the header)
      auto it = std::find_if(conf.registries.begin(), conf.registries.end(), [&](const RegistryEntry& e) { return e.prefix == host; });
      if (it == conf.registries.end()) it = conf.registries.insert(conf.registries.end(), {host, host, false, false, false, {}, source});
      (std::strcmp(section, "insecure") == 0 ? it->insecure : it->blocked) = true;
    }
  }
}

// Where `prefix` ends in `ref` when it matches (at a ':', '/' or '@' or the end), else kNoMatch.
std::size_t match_end(const std::string& ref, const std::string& prefix) {
  auto boundary = [&](std::size_t at) { return at == ref.size() || std::strchr(":/@", ref[at]) != nullptr; };
  if (prefix.starts_with("*.")) {  // any number of subdomains, within the host
    std::string domain = prefix.substr(1);
    std::size_t at = ref.find(domain);
    if (at == std::string::npos || ref.substr(0, at).find('/') != std::string::npos) return kNoMatch;
    return boundary(at + domain.size()) ? at + domain.size() : kNoMatch;
  }
  return ref.starts_with(prefix) && boundary(prefix.size()) ? prefix.size() : kNoMatch;
}

// The entry with the longest matching prefix, and where the prefix ends in `ref`.
std::pair<const RegistryEntry*, std::size_t> find_entry(const RegistriesConf& conf, const std::string& ref) {
  std::pair<const RegistryEntry*, std::size_t> best{nullptr, kNoMatch};
  for (const RegistryEntry& e : conf.registries) {
    std::size_t end = match_end(ref, e.prefix);
    if (end != kNoMatch && (best.first == nullptr || e.prefix.size() > best.first->prefix.size())) best = {&e, end};
  }
  return best;
}

std::optional<std::string> read_text(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT || errno == ENOTDIR) return std::nullopt;
    throw_errno(errno, path);
  }
  std::vector<std::byte> bytes = with_context(path, [&] { return read_all(fd.get()); });
  std::string text(bytes.size(), '\0');
  std::memcpy(text.data(), bytes.data(), bytes.size());
  return text;
}

std::vector<std::string> drop_ins(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    if (e.path().extension() == ".conf" && !e.is_directory()) out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

void merge_registries_conf(RegistriesConf& conf, std::string_view text, const std::string& source) {
  toml::table doc = parse_toml(text, source);
  conf.files.push_back(source);
  Reader top(source, doc, "");
  // Checked for their types only (see the header).
  top.strings("unqualified-search-registries");
  top.strings("credential-helpers");
  std::string mode = top.string("short-name-mode");
  if (!mode.empty() && mode != "enforcing" && mode != "permissive" && mode != "disabled") {
    top.fail("short-name-mode", "invalid short-name mode: \"" + mode + "\"");
  }
  if (const toml::table* aliases = top.get<toml::table>("aliases", "a table")) {
    for (const auto& [name, value] : *aliases) {
      if (!value.is_string()) toml_invalid(source, value, "[aliases] " + std::string(name.str()) + ": expected a string");
    }
  }
  std::vector<const toml::table*> v2 = top.tables("registry");
  if (const toml::table* v1 = top.get<toml::table>("registries", "a table")) {
    if (!v2.empty()) top.fail("registries", "mixing the v1 [registries.*] tables and v2 [[registry]] is not supported");
    read_v1(conf, source, *v1);
  }
  for (const toml::table* t : v2) put(conf.registries, read_entry(source, *t));
}

RegistriesConf load_registries_conf() {
  const char* env = std::getenv("CONTAINERS_REGISTRIES_CONF");
  const char* home = std::getenv("HOME");
  std::string user_file = home != nullptr ? std::string(home) + "/.config/containers/registries.conf" : "";
  std::string user_dir = user_file.empty() ? "" : user_file + ".d";
  std::vector<std::string> files;
  if (env != nullptr && *env != '\0') {
    files = {env};
  } else if (!user_file.empty() && ::access(user_file.c_str(), F_OK) == 0) {
    files = {user_file};
  } else {
    files = {"/etc/containers/registries.conf"};
  }
  if (files[0] != user_file) {
    for (std::string& f : drop_ins("/etc/containers/registries.conf.d")) files.push_back(std::move(f));
  }
  if (!user_dir.empty()) {
    for (std::string& f : drop_ins(user_dir)) files.push_back(std::move(f));
  }
  RegistriesConf conf;
  for (const std::string& f : files) {
    if (std::optional<std::string> text = read_text(f)) merge_registries_conf(conf, *text, f);
  }
  return conf;
}

std::string PullSource::name() const {
  return domain + "/" + path + (reference.starts_with("sha256:") ? "@" : ":") + reference;
}

std::vector<PullSource> pull_sources(const RegistriesConf& conf, const std::string& ref) {
  ImageName image = parse_image_name(ref);
  std::string full = image.str();
  // Not a structured binding: the lambda below captures both (clang 14 refuses that).
  const auto found = find_entry(conf, full);
  const auto* entry = found.first;
  const std::size_t end = found.second;
  if (entry == nullptr) return {{image.domain, image.path, image.reference(), false, false}};
  if (entry->blocked) {
    throw Error(ErrorKind::kRefused, EACCES, "image " + full + ": registry " + entry->prefix + " is blocked in " + entry->source);
  }
  auto source_at = [&](const std::string& location, bool insecure, bool mirror) {
    std::string rewritten = location.empty() ? full : location + full.substr(end);
    ImageName n = with_context("registries.conf (" + entry->source + ") rewrites " + full + " to " + rewritten,
                               [&] { return parse_image_name_at(rewritten); });
    // A location is also a registry of its own: its [[registry]] may make it insecure.
    auto [own, own_end] = find_entry(conf, n.str());
    return PullSource{n.domain, n.path, n.reference(), insecure || (own != nullptr && own->insecure), mirror};
  };
  std::vector<PullSource> out;
  bool by_digest = !image.digest.empty();
  for (const RegistryMirror& m : entry->mirrors) {
    if (entry->mirror_by_digest_only && !by_digest) continue;
    if ((m.use == MirrorUse::kDigestOnly && !by_digest) || (m.use == MirrorUse::kTagOnly && by_digest)) continue;
    out.push_back(source_at(m.location, m.insecure, true));
  }
  out.push_back(source_at(entry->location, entry->insecure, false));
  return out;
}

}  // namespace cfs::oci
