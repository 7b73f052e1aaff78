// Test support for lib/boot: a tree from composefs-dump lines, with an SELinux policy's text
// files put in as inline files (contents may hold any byte: they are set after parsing).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>

#include "boot/policy_reader.h"
#include "dump/parse.h"
#include "tree/tree.h"

namespace cfs::boot::test {

// "/etc/selinux/targeted/contexts/files/<name>" -> text, and "/etc/selinux/config".
using PolicyFiles = std::map<std::string, std::string>;

// `entries`: dump lines below "/" (parents first). `policy`: file_contexts* by name; `config`:
// /etc/selinux/config (nullopt: none). Without a policy nor a config there is no /etc/selinux.
inline tree::Tree image(
    const std::string& entries, const PolicyFiles& policy,
    std::optional<std::string> config = "SELINUX=enforcing\nSELINUXTYPE=targeted\n") {
  std::string dump = "/ 0 40755 2 0 0 0 0.0 - - -\n";
  if (config || !policy.empty()) {
    dump += "/etc 0 40755 2 0 0 0 0.0 - - -\n/etc/selinux 0 40755 2 0 0 0 0.0 - - -\n";
  }
  if (config) dump += "/etc/selinux/config 0 100644 1 0 0 0 0.0 - - -\n";
  if (!policy.empty()) {
    for (const char* d : {"/etc/selinux/targeted", "/etc/selinux/targeted/contexts",
                          "/etc/selinux/targeted/contexts/files"}) {
      dump += std::string(d) + " 0 40755 2 0 0 0 0.0 - - -\n";
    }
    for (const auto& [name, text] : policy) {
      dump += "/etc/selinux/targeted/contexts/files/" + name + " 0 100644 1 0 0 0 0.0 - - -\n";
    }
  }
  dump += entries;
  tree::Tree t = dump::parse(dump);
  auto set = [&](const std::string& path, const std::string& text) {
    tree::Node* n = t.find(path);
    n->content = t.keep(text);
    n->size = text.size();
  };
  if (config) set("/etc/selinux/config", *config);
  for (const auto& [name, text] : policy) set("/etc/selinux/targeted/contexts/files/" + name, text);
  return t;
}

// What f throws as an Error (its whole chain), or "" when it throws nothing.
inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// The reader of a tree whose files are all inline.
inline TreePolicyReader inline_reader(const tree::Tree& t) {
  return TreePolicyReader(
      t, [](const Digest&) -> std::string { throw Error(ENOENT, "no objects in this test"); });
}

inline std::optional<std::string> label(const tree::Tree& t, std::string_view path) {
  const tree::Node* n = t.find(path);
  if (n == nullptr) throw Error(ENOENT, std::string(path) + " not in the tree");
  const tree::Xattr* x = n->resolve()->find_xattr("security.selinux");
  return x ? std::optional<std::string>(x->value) : std::nullopt;
}

}  // namespace cfs::boot::test
