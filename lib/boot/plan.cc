#include "boot/plan.h"

#include <algorithm>
#include <map>

#include "base/error.h"
#include "boot/pe.h"

namespace cfs::boot {
namespace {

// f(), its Error's message prefixed: one line, naming the file (hostile input is one line).
template <class F>
auto prefixed(const std::string& prefix, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const Error& e) {
    throw Error(e.kind(), e.code(), prefix + e.what());
  }
}

// composefs-rs's entry for a kernel of /usr/lib/modules (UsrLibModulesVmlinuz::into_type1).
EntryFile modules_entry(const std::string& id) {
  return EntryFile({"# File created by composefs", "title todoOS", "version 0-todo",
                    "linux /" + id + "/vmlinuz", "initrd /" + id + "/initramfs.img"});
}

BootPlan plan_type1(const Type1Entry& t1, const PlanOptions& o, const ReadObject& read_object) {
  BootPlan plan{o.entry_id, o.karg, {}};
  EntryFile entry = t1.entry;
  std::map<std::string, std::string> written;  // path -> the value it came from
  // Each linux/initrd/efi line now names /<id>/<its file name> (Type1Entry::relocate).
  for (std::size_t i = 0; i < entry.lines().size(); ++i) {
    for (const char* key : {"linux", "initrd", "efi"}) {
      std::optional<std::string_view> value = bls_value(entry.lines()[i], key);
      if (!value) continue;
      std::string v(*value);
      auto file = std::find_if(t1.files.begin(), t1.files.end(),
                               [&](const auto& f) { return f.first == v; });
      if (file == t1.files.end()) continue;  // every value was looked up when the entry was found
      std::string path = o.entry_id + v.substr(v.rfind('/'));
      auto [at, added] = written.emplace(path, v);
      if (added) {
        plan.files.push_back({path, read_file(file->second, read_object)});
      } else if (at->second != v) {
        throw Error(EINVAL, t1.name + ": " + at->second + " and " + v +
                                " would both be written as /" + path);
      }
      entry.set_value(i, key, "/" + path);
    }
  }
  entry.add_cmdline(format(o.karg));
  for (const std::string& arg : o.cmdline) entry.add_cmdline(arg);
  plan.files.push_back({"loader/entries/" + o.entry_id + ".conf", entry.text()});
  return plan;
}

BootPlan plan_type2(const Type2Entry& t2, const PlanOptions& o, const ReadObject& read_object) {
  if (!o.cmdline.empty()) throw Error(EINVAL, "Can't add --cmdline args to UKIs");
  std::string content = read_file(t2.file, read_object);
  std::string cmdline = prefixed(t2.file.path + ": ", [&] {
    return uki_cmdline(std::as_bytes(std::span(content.data(), content.size())));
  });
  std::optional<Karg> karg = prefixed(t2.file.path + ": parsing UKI .cmdline: ", [&] {
    return parse_for(cmdline, o.karg.digest.algorithm());
  });
  if (!karg) {
    throw Error(
        EINVAL,
        t2.file.path +
            ": UKI .cmdline has no composefs karg (composefs= or composefs.digest=): " + cmdline);
  }
  if (std::find(o.acceptable.begin(), o.acceptable.end(), karg->digest) == o.acceptable.end()) {
    std::string expected;
    for (const Digest& d : o.acceptable) expected += (expected.empty() ? "" : ", ") + to_hex(d);
    throw Error(EINVAL, t2.file.path + ": The UKI has the wrong composefs digest (is '" +
                            to_hex(karg->digest) + "', should be one of [" + expected + "])");
  }
  std::size_t slash = t2.path.rfind('/');
  std::string parent = slash == std::string::npos ? "" : t2.path.substr(0, slash + 1);
  return BootPlan{
      o.entry_id, *karg, {{"EFI/Linux/" + parent + o.entry_id + ".efi", std::move(content)}}};
}

BootPlan plan_kernel(const ModulesKernel& k, const PlanOptions& o, const ReadObject& read_object) {
  if (!k.initramfs) {
    throw Error(ENOENT, "kernel " + k.kver + " has no initramfs.img in /usr/lib/modules/" + k.kver);
  }
  Type1Entry t1{o.entry_id + ".conf",
                modules_entry(o.entry_id),
                {{"/" + o.entry_id + "/vmlinuz", k.vmlinuz},
                 {"/" + o.entry_id + "/initramfs.img", *k.initramfs}}};
  return plan_type1(t1, o, read_object);
}

}  // namespace

void check_entry_id(const std::string& id) {
  auto bad = [&](const std::string& why) {
    throw Error(EINVAL, "invalid boot entry ID '" + id + "': " + why);
  };
  if (id.empty() || id == "." || id == "..") bad("not a file name");
  for (char c : id) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '/') bad("it contains '/'");
    if (u <= ' ' || u == 0x7f) bad("it contains whitespace or a control character");
  }
}

BootPlan plan_boot(const BootEntry& entry, const PlanOptions& options,
                   const ReadObject& read_object) {
  check_entry_id(options.entry_id);
  if (const auto* t1 = std::get_if<Type1Entry>(&entry))
    return plan_type1(*t1, options, read_object);
  if (const auto* t2 = std::get_if<Type2Entry>(&entry))
    return plan_type2(*t2, options, read_object);
  return plan_kernel(std::get<ModulesKernel>(entry), options, read_object);
}

}  // namespace cfs::boot
