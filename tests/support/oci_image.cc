#include "support/oci_image.h"

#include <zlib.h>
#include <zstd.h>

#include <cstring>
#include <fstream>
#include <stdexcept>

#include "support/support.h"

namespace cfs::test {
namespace {

void put_octal(std::string& h, std::size_t at, std::size_t len, std::uint64_t v) {
  std::string s(len - 1, '0');
  for (std::size_t i = len - 1; i-- > 0; v >>= 3) s[i] = static_cast<char>('0' + (v & 7));
  std::memcpy(h.data() + at, s.data(), len - 1);
}

std::string pax_record(const std::string& key, const std::string& value) {
  std::string body = " " + key + "=" + value + "\n";
  std::size_t len = body.size() + 1;
  while (std::to_string(len).size() + body.size() != len) ++len;
  return std::to_string(len) + body;
}

std::string pad(std::string s) {
  s.resize((s.size() + 511) / 512 * 512, '\0');
  return s;
}

}  // namespace

std::string sha256_digest(const std::string& data) { return "sha256:" + sha256_hex(data); }

std::string tar_header(const TarMember& m, std::uint64_t size) {
  std::string h(512, '\0');
  std::memcpy(h.data(), m.name.data(), std::min<std::size_t>(m.name.size(), 100));
  put_octal(h, 100, 8, m.mode);
  put_octal(h, 108, 8, m.uid);
  put_octal(h, 116, 8, m.gid);
  put_octal(h, 124, 12, size);
  put_octal(h, 136, 12, static_cast<std::uint64_t>(m.mtime));
  h[156] = m.type;
  std::memcpy(h.data() + 157, m.link.data(), std::min<std::size_t>(m.link.size(), 100));
  std::memcpy(h.data() + 257, "ustar\0" "00", 8);
  put_octal(h, 329, 8, m.major);
  put_octal(h, 337, 8, m.minor);
  std::memset(h.data() + 148, ' ', 8);
  unsigned sum = 0;
  for (unsigned char c : h) sum += c;
  put_octal(h, 148, 7, sum);
  return h;
}

std::string make_tar(const std::vector<TarMember>& members) {
  std::string out;
  for (const TarMember& m : members) {
    std::map<std::string, std::string> pax = m.pax;
    if (m.name.size() > 100) pax["path"] = m.name;
    if (m.link.size() > 100) pax["linkpath"] = m.link;
    if (!pax.empty()) {
      std::string records;
      for (const auto& [k, v] : pax) records += pax_record(k, v);
      TarMember x{.name = "PaxHeaders/" + m.name.substr(0, 80), .type = 'x', .mode = 0644};
      out += tar_header(x, records.size()) + pad(records);
    }
    out += tar_header(m, m.type == '0' ? m.data.size() : 0);
    if (m.type == '0') out += pad(m.data);
  }
  return out + std::string(1024, '\0');
}

std::string gzip(const std::string& data, int members) {
  std::string out;
  std::size_t per = data.size() / static_cast<std::size_t>(members) + 1;
  for (int i = 0; i < members; ++i) {
    std::string part = data.substr(std::min(data.size(), per * static_cast<std::size_t>(i)), per);
    z_stream z{};
    deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
    std::string buf(deflateBound(&z, part.size()) + 64, '\0');
    z.next_in = reinterpret_cast<Bytef*>(part.data());
    z.avail_in = static_cast<uInt>(part.size());
    z.next_out = reinterpret_cast<Bytef*>(buf.data());
    z.avail_out = static_cast<uInt>(buf.size());
    if (deflate(&z, Z_FINISH) != Z_STREAM_END) throw std::runtime_error("deflate");
    buf.resize(z.total_out);
    deflateEnd(&z);
    out += buf;
  }
  return out;
}

std::string zstd(const std::string& data, int frames, bool skippable_frame) {
  std::string out;
  std::size_t per = data.size() / static_cast<std::size_t>(frames) + 1;
  for (int i = 0; i < frames; ++i) {
    std::string part = data.substr(std::min(data.size(), per * static_cast<std::size_t>(i)), per);
    std::string buf(ZSTD_compressBound(part.size()), '\0');
    buf.resize(ZSTD_compress(buf.data(), buf.size(), part.data(), part.size(), 3));
    out += buf;
    if (skippable_frame) {  // magic 0x184D2A50, length 4, payload
      out += std::string("\x50\x2a\x4d\x18\x04\x00\x00\x00" "skip", 12);
    }
  }
  return out;
}

WrittenImage write_layout(const std::filesystem::path& dir, const std::vector<Layer>& layers, const std::string& tag,
                          const std::map<std::string, std::string>& labels) {
  std::filesystem::create_directories(dir / "blobs" / "sha256");
  auto put = [&](const std::string& bytes) {
    std::string d = sha256_digest(bytes);
    write_file(dir / "blobs" / "sha256" / d.substr(7), bytes);
    return d;
  };
  WrittenImage w;
  std::string layer_list;
  for (const Layer& l : layers) {
    std::string blob = l.compression == "gzip" ? gzip(l.tar) : l.compression == "zstd" ? zstd(l.tar) : l.tar;
    std::string type = "application/vnd.oci.image.layer.v1.tar" +
                       std::string(l.compression == "gzip" ? "+gzip" : l.compression == "zstd" ? "+zstd" : "");
    w.diff_ids.push_back(sha256_digest(l.tar));
    w.blob_digests.push_back(put(blob));
    layer_list += std::string(layer_list.empty() ? "" : ",") + "{\"mediaType\":\"" + type + "\",\"digest\":\"" +
                  w.blob_digests.back() + "\",\"size\":" + std::to_string(blob.size()) + "}";
  }
  std::string ids;
  for (const std::string& d : w.diff_ids) ids += std::string(ids.empty() ? "" : ",") + "\"" + d + "\"";
  std::string label_list;
  for (const auto& [k, v] : labels) label_list += std::string(label_list.empty() ? "" : ",") + "\"" + k + "\":\"" + v + "\"";
  std::string config = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{" +
                       (labels.empty() ? "" : "\"Labels\":{" + label_list + "}") +
                       "},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[" + ids + "]}}";
  w.config_digest = put(config);
  std::string manifest = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{"
                         "\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" + w.config_digest +
                         "\",\"size\":" + std::to_string(config.size()) + "},\"layers\":[" + layer_list + "]}";
  w.manifest_digest = put(manifest);
  std::string entry = "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" + w.manifest_digest +
                      "\",\"size\":" + std::to_string(manifest.size()) +
                      ",\"annotations\":{\"org.opencontainers.image.ref.name\":\"" + tag + "\"}}";
  std::string index;
  if (std::filesystem::exists(dir / "index.json")) {
    index = read_file(dir / "index.json");
    index.insert(index.rfind(']'), "," + entry);
  } else {
    index = "{\"schemaVersion\":2,\"manifests\":[" + entry + "]}";
  }
  write_file(dir / "index.json", index);
  write_file(dir / "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}");
  return w;
}

WrittenImage write_docker_archive(const std::filesystem::path& path, const std::vector<std::string>& layer_tars,
                                  const std::string& repo_tag, const std::map<std::size_t, std::string>& symlinks) {
  WrittenImage w;
  std::vector<TarMember> members;
  std::string layers, ids;
  for (std::size_t i = 0; i < layer_tars.size(); ++i) {
    std::string name = std::to_string(i) + "/layer.tar";
    members.push_back(dir(std::to_string(i) + "/"));
    auto link = symlinks.find(i);
    members.push_back(link == symlinks.end() ? file(name, layer_tars[i]) : symlink(name, link->second));
    w.diff_ids.push_back(sha256_digest(layer_tars[i]));
    layers += std::string(layers.empty() ? "" : ",") + "\"" + name + "\"";
    ids += std::string(ids.empty() ? "" : ",") + "\"" + w.diff_ids.back() + "\"";
  }
  std::string config = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[" + ids + "]}}";
  w.config_digest = sha256_digest(config);
  members.push_back(file(w.config_digest.substr(7) + ".json", config));
  members.push_back(file("manifest.json", "[{\"Config\":\"" + w.config_digest.substr(7) + ".json\",\"RepoTags\":[\"" + repo_tag +
                                              "\"],\"Layers\":[" + layers + "]}]"));
  write_file(path, make_tar(members));
  return w;
}

std::string conformance_layer() {
  return make_tar({dir("usr/"), file("hello.txt", "hello from test layer\n"),
                   hardlink("hello-link.txt", "hello.txt")});
}

std::filesystem::path init_insecure_repo(const std::filesystem::path& repo, const std::string& algorithm) {
  auto r = cfsctl(repo, {"init", "--insecure", "--algorithm", algorithm});
  EXPECT_EQ(r.status, 0) << r.err;
  return repo;
}

}  // namespace cfs::test
