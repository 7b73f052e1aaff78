#include "boot/entries.h"

#include <sys/stat.h>

#include "base/error.h"

namespace cfs::boot {
namespace {

constexpr const char* kEntryKeys[] = {"linux", "initrd", "efi"};

[[noreturn]] void bad(const std::string& what) { throw Error(ErrorKind::kCorrupt, EUCLEAN, what); }

// `node` (a hard link resolved) as a file of the image; nullopt when it is not a regular file.
std::optional<FileRef> regular(const tree::Node* node, const std::string& path) {
  const tree::Node* n = node == nullptr ? nullptr : node->resolve();
  if (n == nullptr || n->type() != S_IFREG) return std::nullopt;
  FileRef f{path, std::string(n->content), std::nullopt};
  if (n->content.empty() && n->size != 0) {
    if (!n->digest) bad(path + " has neither inline data nor an object digest");
    f.object = *n->digest;
  }
  return f;
}

// A directory of the tree (not through a symlink), or nullptr.
const tree::Node* directory(const tree::Tree& tree, const std::string& path) {
  const tree::Node* n = tree.find(path);
  return n != nullptr && n->is_dir() ? n : nullptr;
}

// An absolute path with no empty, "." or ".." component.
bool clean_absolute(std::string_view p) {
  if (!p.starts_with('/') || p.size() == 1) return false;
  p.remove_prefix(1);
  while (true) {
    std::size_t slash = std::min(p.find('/'), p.size());
    std::string_view part = p.substr(0, slash);
    if (part.empty() || part == "." || part == "..") return false;
    if (slash == p.size()) return true;
    p.remove_prefix(slash + 1);
  }
}

void load_type1(const tree::Tree& tree, const ReadObject& read_object,
                std::vector<BootEntry>& out) {
  const std::string dir = "/boot/loader/entries";
  const tree::Node* entries = directory(tree, dir);
  if (entries == nullptr) return;
  for (const tree::Node* child : entries->children) {
    std::string name(child->name);
    if (!name.ends_with(".conf")) continue;
    std::string path = dir + "/" + name;
    std::optional<FileRef> conf = regular(child, path);
    if (!conf) bad(path + " is not a regular file");
    Type1Entry e{name, EntryFile::parse(read_file(*conf, read_object)), {}};
    for (const char* key : kEntryKeys) {
      for (std::string_view value : e.entry.values(key)) {
        std::string v(value);
        if (!clean_absolute(v))
          bad(path + ": " + key + " " + v + " is not an absolute path without . or .. components");
        std::optional<FileRef> file = regular(tree.find(v), v);
        if (!file) bad(path + ": " + key + " " + v + " is not a regular file of the image");
        e.files.emplace_back(v, *file);
      }
    }
    out.push_back(std::move(e));
  }
}

// Every *.efi below `dir` (depth first, by name), paths relative to it.
void find_efi(const tree::Node& dir, const std::string& dir_path, const std::string& rel,
              const std::optional<std::string>& kver, std::vector<BootEntry>& out) {
  for (const tree::Node* child : dir.children) {
    std::string name(child->name);
    std::string child_rel = rel.empty() ? name : rel + "/" + name;
    if (child->is_dir()) {
      find_efi(*child, dir_path, child_rel, kver, out);
      continue;
    }
    if (!name.ends_with(".efi")) continue;
    std::optional<FileRef> file = regular(child, dir_path + "/" + child_rel);
    if (!file) bad(dir_path + "/" + child_rel + " is not a regular file");
    out.push_back(Type2Entry{kver, child_rel, *file});
  }
}

void load_type2(const tree::Tree& tree, std::vector<BootEntry>& out) {
  for (const char* d : {"/boot/EFI/Linux", "/boot/loader/addons"}) {
    if (const tree::Node* dir = directory(tree, d)) find_efi(*dir, d, "", std::nullopt, out);
  }
  const tree::Node* modules = directory(tree, "/usr/lib/modules");
  if (modules == nullptr) return;
  for (const tree::Node* k : modules->children) {
    if (!k->is_dir()) continue;
    std::string kver(k->name);
    find_efi(*k, "/usr/lib/modules/" + kver, "", kver, out);
  }
}

void load_kernels(const tree::Tree& tree, std::vector<BootEntry>& out) {
  const tree::Node* modules = directory(tree, "/usr/lib/modules");
  if (modules == nullptr) return;
  for (const tree::Node* k : modules->children) {
    if (!k->is_dir()) continue;
    std::string dir = "/usr/lib/modules/" + std::string(k->name);
    std::optional<FileRef> vmlinuz = regular(k->find_child("vmlinuz"), dir + "/vmlinuz");
    if (!vmlinuz) continue;
    out.push_back(ModulesKernel{std::string(k->name), *vmlinuz,
                                regular(k->find_child("initramfs.img"), dir + "/initramfs.img")});
  }
}

}  // namespace

std::string read_file(const FileRef& file, const ReadObject& read_object) {
  if (!file.object) return file.inline_data;
  return with_context("reading " + file.path, [&] { return read_object(*file.object); });
}

std::vector<BootEntry> find_boot_entries(const tree::Tree& tree, const ReadObject& read_object) {
  std::vector<BootEntry> out;
  load_type1(tree, read_object, out);
  load_type2(tree, out);
  load_kernels(tree, out);
  return out;
}

std::string default_entry_name(const BootEntry& entry) {
  if (const auto* t1 = std::get_if<Type1Entry>(&entry))
    return t1->name.substr(0, t1->name.size() - 5);
  if (const auto* t2 = std::get_if<Type2Entry>(&entry)) {
    std::string base = t2->path.substr(t2->path.rfind('/') + 1);
    return base.substr(0, base.size() - 4);
  }
  return std::get<ModulesKernel>(entry).kver;
}

}  // namespace cfs::boot
