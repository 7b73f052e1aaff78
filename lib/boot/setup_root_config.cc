#include "boot/setup_root_config.h"

#include <fcntl.h>

#include <cerrno>
#include <cstring>

#include "base/error.h"
#include "base/file_io.h"
#include "base/toml_file.h"

namespace cfs::boot {
namespace {

constexpr std::pair<std::string_view, StateMount> kModes[] = {
    {"none", StateMount::kNone},
    {"bind", StateMount::kBind},
    {"overlay", StateMount::kOverlay},
    {"transient", StateMount::kTransient},
};

std::string type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    default:
      return "a date or time";
  }
}

// `key` of `table`, or nullptr; anything but a T is an error.
template <class T>
const toml::value<T>* value_of(const std::string& source, const toml::table& table,
                               const std::string& where, const char* key, const char* expected) {
  const toml::node* n = table.get(key);
  if (n == nullptr) return nullptr;
  if (const auto* v = n->as<T>()) return v;
  toml_invalid(source, *n, where + " " + key + ": expected " + expected + ", got " + type_name(*n));
}

const toml::table* table_of(const std::string& source, const toml::table& doc, const char* name) {
  const toml::node* n = doc.get(name);
  if (n == nullptr) return nullptr;
  if (const toml::table* t = n->as_table()) return t;
  toml_invalid(source, *n, std::string(name) + ": expected a table, got " + type_name(*n));
}

StateMountConfig state_mount(const std::string& source, const toml::table& doc, const char* name) {
  StateMountConfig out;
  const toml::table* t = table_of(source, doc, name);
  if (t == nullptr) return out;
  std::string where = "[" + std::string(name) + "]";
  if (const auto* m = value_of<std::string>(source, *t, where, "mount", "a string")) {
    for (auto [text, mode] : kModes) {
      if (m->get() == text) out.mount = mode;
    }
    if (!out.mount) {
      toml_invalid(source, *m,
              where + " mount: unknown value '" + m->get() +
                  "' (expected none, bind, overlay or transient)");
    }
  }
  if (const auto* tr = value_of<bool>(source, *t, where, "transient", "a boolean"))
    out.transient = tr->get();
  return out;
}

}  // namespace

std::string_view name_of(StateMount mode) {
  for (auto [text, m] : kModes) {
    if (m == mode) return text;
  }
  return "?";
}

StateMount StateMountConfig::mode(StateMount fallback) const {
  if (mount) return *mount;
  return transient ? StateMount::kTransient : fallback;
}

SetupRootConfig parse_setup_root_config(std::string_view text, const std::string& source) {
  toml::table doc = parse_toml(text, source);
  SetupRootConfig out;
  out.etc = state_mount(source, doc, "etc");
  out.var = state_mount(source, doc, "var");
  if (const toml::table* root = table_of(source, doc, "root")) {
    if (const auto* tr = value_of<bool>(source, *root, "[root]", "transient", "a boolean")) {
      out.root_transient = tr->get();
    }
  }
  return out;
}

SetupRootConfig load_setup_root_config(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) return SetupRootConfig{};
    throw_errno(errno, path);
  }
  std::vector<std::byte> bytes = with_context(path, [&] { return read_all(fd.get()); });
  std::string text(bytes.size(), '\0');
  std::memcpy(text.data(), bytes.data(), bytes.size());
  return parse_setup_root_config(text, path);
}

}  // namespace cfs::boot
