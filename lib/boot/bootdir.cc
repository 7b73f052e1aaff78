#include "boot/bootdir.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <memory>
#include <set>

#include "base/error.h"
#include "base/file_io.h"
#include "base/output_file.h"
#include "boot/bls.h"
#include "boot/pe.h"

namespace cfs::boot {
namespace {

namespace fs = std::filesystem;

constexpr const char* kEntriesDir = "loader/entries";
constexpr const char* kUkiDir = "EFI/Linux";

// The names in `dir` ending with `suffix`, sorted; none when it does not exist.
std::vector<std::string> names_in(const std::string& dir, std::string_view suffix) {
  std::vector<std::string> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename();
    if (name.ends_with(suffix) && name.size() > suffix.size() && !name.starts_with('.'))
      out.push_back(name);
  }
  if (ec && ec != std::errc::no_such_file_or_directory)
    throw Error(ec.value(), dir + ": " + ec.message());
  std::sort(out.begin(), out.end());
  return out;
}

std::string read_text(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) throw_errno(errno, path);
  std::vector<std::byte> bytes = read_all(fd.get());
  std::string text(bytes.size(), '\0');
  if (!bytes.empty()) std::memcpy(text.data(), bytes.data(), bytes.size());
  return text;
}

// A relative path with no empty, "." or ".." component.
bool clean_relative(std::string_view p) {
  if (p.empty() || p.starts_with('/')) return false;
  for (std::size_t at = 0; at <= p.size();) {
    std::size_t slash = std::min(p.find('/', at), p.size());
    std::string_view part = p.substr(at, slash - at);
    if (part.empty() || part == "." || part == "..") return false;
    at = slash + 1;
  }
  return true;
}

void make_dirs(const std::string& bootdir, std::string_view rel) {
  std::string path = bootdir;
  for (std::size_t at = 0;;) {
    std::size_t slash = rel.find('/', at);
    if (slash == std::string_view::npos) return;
    path += "/" + std::string(rel.substr(at, slash - at));
    if (::mkdir(path.c_str(), 0777) != 0 && errno != EEXIST) throw_errno(errno, path);
    at = slash + 1;
  }
}

// systemd-boot's order (boot_entry_compare): a negative value when `a` comes first.
int compare_entries(const InstalledEntry& a, const InstalledEntry& b) {
  bool ka = !a.sort_key.empty(), kb = !b.sort_key.empty();
  if (ka != kb) return ka ? -1 : 1;
  if (ka) {
    if (int r = a.sort_key.compare(b.sort_key)) return r;
    if (int r = a.machine_id.compare(b.machine_id)) return r;
    if (int r = ::strverscmp(a.version.c_str(), b.version.c_str())) return -r;
  }
  return -::strverscmp(a.id.c_str(), b.id.c_str());
}

InstalledEntry read_type1(const std::string& bootdir, const std::string& name) {
  InstalledEntry e;
  e.id = name.substr(0, name.size() - 5);
  e.path = std::string(kEntriesDir) + "/" + name;
  try {
    EntryFile file = EntryFile::parse(read_text(bootdir + "/" + e.path));
    e.kernel = std::string(file.value("linux").value_or(""));
    e.sort_key = std::string(file.value("sort-key").value_or(""));
    e.machine_id = std::string(file.value("machine-id").value_or(""));
    e.version = std::string(file.value("version").value_or(""));
    std::string options;
    for (std::string_view o : file.values("options")) options += std::string(o) + " ";
    e.kargs = parse_all(options);
  } catch (const Error& err) {
    e.error = err.what();
  }
  return e;
}

InstalledEntry read_uki(const std::string& bootdir, const std::string& name) {
  InstalledEntry e;
  e.id = name.substr(0, name.size() - 4);
  e.path = std::string(kUkiDir) + "/" + name;
  e.uki = true;
  try {
    UniqueFd fd(::open((bootdir + "/" + e.path).c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd) throw_errno(errno, e.path);
    MappedFile file = MappedFile::open(fd.get());
    e.kargs = parse_all(uki_cmdline(file.bytes()));
  } catch (const Error& err) {
    e.error = err.what();
  }
  return e;
}

// The files (relative to the boot directory) a Type 1 entry names.
std::vector<std::string> files_of(const std::string& conf_path) {
  EntryFile file = EntryFile::parse(read_text(conf_path));
  std::vector<std::string> out;
  for (const char* key : {"linux", "initrd", "efi"}) {
    for (std::string_view v : file.values(key)) {
      if (v.starts_with('/') && clean_relative(v.substr(1))) out.emplace_back(v.substr(1));
    }
  }
  return out;
}

}  // namespace

std::string next_entry_id(const std::string& bootdir, std::string_view name) {
  unsigned long long highest = 0;
  auto consider = [&](const std::string& stem) {
    if (!stem.starts_with(kEntryIdPrefix)) return;
    std::string_view rest = std::string_view(stem).substr(kEntryIdPrefix.size());
    std::size_t digits = 0;
    while (digits < rest.size() && digits < 18 && rest[digits] >= '0' && rest[digits] <= '9')
      ++digits;
    if (digits == 0 || digits == rest.size() || rest[digits] != '-') return;
    highest = std::max(highest, std::stoull(std::string(rest.substr(0, digits))));
  };
  for (const std::string& n : names_in(bootdir + "/" + kEntriesDir, ".conf"))
    consider(n.substr(0, n.size() - 5));
  for (const std::string& n : names_in(bootdir + "/" + kUkiDir, ".efi"))
    consider(n.substr(0, n.size() - 4));
  return std::string(kEntryIdPrefix) + std::to_string(highest + 1) + "-" + std::string(name);
}

void write_plan(const std::string& bootdir, const BootPlan& plan) {
  struct stat st {};
  if (::stat(bootdir.c_str(), &st) != 0) throw_errno(errno, "boot directory " + bootdir);
  if (!S_ISDIR(st.st_mode))
    throw Error(ENOTDIR, "boot directory " + bootdir + " is not a directory");
  for (const PlannedFile& f : plan.files) {
    if (!clean_relative(f.path))
      throw Error(EINVAL, "refusing to write " + f.path + " outside the boot directory");
  }
  std::vector<std::unique_ptr<OutputFile>> staged;
  for (const PlannedFile& f : plan.files) {
    with_context("writing " + bootdir + "/" + f.path, [&] {
      make_dirs(bootdir, f.path);
      staged.push_back(std::make_unique<OutputFile>(bootdir + "/" + f.path));
      staged.back()->write(std::as_bytes(std::span(f.bytes.data(), f.bytes.size())));
    });
  }
  for (std::size_t i = 0; i < staged.size(); ++i) {
    with_context("writing " + bootdir + "/" + plan.files[i].path, [&] { staged[i]->commit(); });
  }
}

std::vector<InstalledEntry> list_entries(const std::string& bootdir) {
  std::vector<InstalledEntry> type1, ukis;
  for (const std::string& n : names_in(bootdir + "/" + kEntriesDir, ".conf"))
    type1.push_back(read_type1(bootdir, n));
  for (const std::string& n : names_in(bootdir + "/" + kUkiDir, ".efi"))
    ukis.push_back(read_uki(bootdir, n));
  std::stable_sort(type1.begin(), type1.end(),
                   [](const auto& a, const auto& b) { return compare_entries(a, b) < 0; });
  std::stable_sort(ukis.begin(), ukis.end(), [](const auto& a, const auto& b) {
    return ::strverscmp(a.id.c_str(), b.id.c_str()) > 0;
  });
  type1.insert(type1.end(), ukis.begin(), ukis.end());
  return type1;
}

std::vector<std::string> remove_entry(const std::string& bootdir, const std::string& id) {
  check_entry_id(id);
  std::vector<std::string> removed;
  std::string conf = std::string(kEntriesDir) + "/" + id + ".conf";
  std::string uki = std::string(kUkiDir) + "/" + id + ".efi";
  struct stat st {};
  if (::lstat((bootdir + "/" + conf).c_str(), &st) == 0) {
    std::vector<std::string> files;
    try {
      files = files_of(bootdir + "/" + conf);
    } catch (const Error&) {
      // An entry that cannot be read is still removed; its files stay.
    }
    if (::unlink((bootdir + "/" + conf).c_str()) != 0) throw_errno(errno, bootdir + "/" + conf);
    removed.push_back(conf);
    std::set<std::string> still_named;
    for (const std::string& other : names_in(bootdir + "/" + kEntriesDir, ".conf")) {
      try {
        for (std::string& f : files_of(bootdir + "/" + kEntriesDir + "/" + other))
          still_named.insert(std::move(f));
      } catch (const Error&) {
        return removed;  // cannot tell what another entry needs: keep every file
      }
    }
    std::set<std::string> dirs;
    for (const std::string& f : files) {
      if (still_named.contains(f)) continue;
      if (::unlink((bootdir + "/" + f).c_str()) == 0) removed.push_back(f);
      if (std::size_t slash = f.rfind('/'); slash != std::string::npos)
        dirs.insert(f.substr(0, slash));
    }
    for (const std::string& d : dirs) ::rmdir((bootdir + "/" + d).c_str());  // only when empty
    return removed;
  }
  if (::lstat((bootdir + "/" + uki).c_str(), &st) == 0) {
    if (::unlink((bootdir + "/" + uki).c_str()) != 0) throw_errno(errno, bootdir + "/" + uki);
    removed.push_back(uki);
    return removed;
  }
  throw Error(ENOENT,
              "no boot entry " + id + " in " + bootdir + " (neither " + conf + " nor " + uki + ")");
}

}  // namespace cfs::boot
