#include "oci/layer_inspect.h"

#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "base/error.h"
#include "base/file_io.h"
#include "dump/print.h"
#include "oci/layer.h"
#include "repo/splitstream.h"

namespace cfs::oci {
namespace {

std::string dumpfile_line(const TarEntry& e) {
  std::string path = e.path == "/" ? "" : e.path;  // composefs-rs's tar reader names the root ""
  std::string out;
  if (e.type == EntryType::kHardLink) {
    dump::append_composefs_rs_link_line(out, path, e.link);
    return out;
  }
  tree::Node n;
  set_node_metadata(n, e);
  std::sort(n.xattrs.begin(), n.xattrs.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  std::string object;
  std::array<std::uint8_t, 1 + 64> digest{};
  if (e.type == EntryType::kRegular) {
    n.size = e.size;
    if (e.body.object) {
      object = object_path(*e.body.object);
      n.payload = object;
      digest[0] = static_cast<std::uint8_t>(e.body.object->algorithm());
      std::memcpy(digest.data() + 1, e.body.object->data(), e.body.object->size());
      n.digest = tree::DigestRef::over(digest.data());
    } else {
      n.content = e.body.bytes;
    }
  } else if (e.type == EntryType::kSymlink) {
    n.size = e.link.size();
    n.payload = e.link;
  } else if (e.type == EntryType::kCharDevice || e.type == EntryType::kBlockDevice) {
    n.rdev = e.rdev;
  }
  dump::append_line(out, path, n, nullptr);
  if (path.empty()) out.insert(0, "-");  // an empty field is written "-"
  return out;
}

}  // namespace

Digest layer_stream(const repo::Repository& repo, const std::string& diff_id) {
  std::optional<Digest> stream = repo.stream_object(layer_stream_name(diff_id));
  if (!stream) throw Error(ENOENT, "Layer " + diff_id + " not found");
  return *stream;
}

LayerInfo layer_info(const repo::Repository& repo, const std::string& diff_id) {
  LayerInfo info;
  info.diff_id = diff_id;
  info.verity = layer_stream(repo, diff_id);
  {
    UniqueFd fd = repo.open_object(info.verity);
    MappedFile file = MappedFile::open(fd.get());
    repo::SplitStreamReader header(file.bytes(), repo.algorithm());
    info.size = header.stream_size();
    info.external_objects = header.refs().object_refs.size();
  }
  read_layer(repo, info.verity, [&](const TarEntry& e) {
    ++info.entry_count;
    if (e.type == EntryType::kRegular && e.body.object) info.external_size += e.size;
  });
  info.inline_size = info.size - std::min(info.size, info.external_size);
  return info;
}

void layer_dumpfile(const repo::Repository& repo, const std::string& diff_id,
                    const std::function<void(std::string_view)>& out) {
  read_layer(repo, layer_stream(repo, diff_id), [&](const TarEntry& e) { out(dumpfile_line(e)); });
}

}  // namespace cfs::oci
