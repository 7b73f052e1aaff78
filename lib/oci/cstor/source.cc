#include "oci/cstor/source.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <deque>

#include "base/error.h"
#include "oci/cstor/storage.h"
#include "oci/cstor/tar_split.h"
#include "oci/decompress.h"
#include "oci/tar.h"

namespace cfs::oci::cstor {
namespace {

constexpr std::size_t kMaxLine = 64 << 20;

class StringReader final : public BlobReader {
 public:
  explicit StringReader(std::string s) : s_(std::move(s)) {}
  std::size_t read_some(std::span<std::byte> buf) override {
    std::size_t n = std::min(buf.size(), s_.size() - at_);
    std::memcpy(buf.data(), s_.data() + at_, n);
    at_ += n;
    return n;
  }

 private:
  std::string s_;
  std::size_t at_ = 0;
};

// A layer's tar: the tar-split's segments, and its file entries' bodies from the layer's files.
class RebuiltTar final : public LocalTar {
 public:
  RebuiltTar(UniqueFd tar_split, std::vector<UniqueFd> dirs, std::string layer_id)
      : split_fd_(std::move(tar_split)),
        gz_(Compression::kGzip,
            [this](std::span<std::byte> b) -> std::size_t {
              ssize_t n;
              do n = ::read(split_fd_.get(), b.data(), b.size());
              while (n < 0 && errno == EINTR);
              if (n < 0) throw_errno(errno, "reading the tar-split");
              return static_cast<std::size_t>(n);
            }),
        dirs_(std::move(dirs)),
        layer_id_(std::move(layer_id)) {}

  std::size_t read_some(std::span<std::byte> buf) override {
    for (;;) {
      if (seg_at_ < seg_.size()) {
        std::size_t n = std::min(buf.size(), seg_.size() - seg_at_);
        std::memcpy(buf.data(), seg_.data() + seg_at_, n);
        seg_at_ += n;
        return n;
      }
      if (body_left_ > 0) {  // a body read as bytes (--local-fetch disabled, small files)
        if (!body_fd_) body_fd_ = open_layer_file(dirs_, body_name_);
        std::size_t want =
            static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), body_left_));
        ssize_t n;
        do
          n = ::pread(body_fd_.get(), buf.data(), want,
                      static_cast<off_t>(body_size_ - body_left_));
        while (n < 0 && errno == EINTR);
        if (n < 0) throw_errno(errno, "reading " + body_name_ + " in containers-storage");
        if (n == 0)
          throw_corrupt("containers-storage: " + body_name_ +
                        " is shorter than the tar-split says");
        body_left_ -= static_cast<std::uint64_t>(n);
        return static_cast<std::size_t>(n);
      }
      if (!next_entry()) return 0;
    }
  }

  UniqueFd take_body(const std::string& path, std::uint64_t size) override {
    while (seg_at_ == seg_.size() && body_left_ == 0) {
      if (!next_entry())
        throw_corrupt("tar-split of layer " + layer_id_ + " ends before the body of " + path);
    }
    if (seg_at_ < seg_.size() || body_left_ != body_size_)
      throw_corrupt("tar-split of layer " + layer_id_ + ": no body where the tar has " + path);
    if (body_size_ != size || escaped(normalize_tar_path(body_name_)) != path) {
      throw_corrupt("tar-split of layer " + layer_id_ + ": the body of " + path + " (" +
                    std::to_string(size) + " bytes) is " + body_name_ + " (" +
                    std::to_string(body_size_) + " bytes)");
    }
    body_left_ = 0;
    return body_fd_ ? std::move(body_fd_) : open_layer_file(dirs_, body_name_);
  }

 private:
  // The next segment or non-empty body; false at the end.
  bool next_entry() {
    if (files_ahead_ < kLookahead / 2) fill();
    if (ahead_.empty()) return false;
    Ahead a = std::move(ahead_.front());
    ahead_.pop_front();
    if (a.entry.kind == TarSplitEntry::kSegment) {
      seg_ = std::move(a.entry.bytes);
      seg_at_ = 0;
    } else {
      --files_ahead_;
      body_name_ = std::move(a.entry.name);
      body_size_ = body_left_ = a.entry.size;
      body_fd_ = std::move(a.fd);
    }
    return true;
  }

  // Parses the tar-split up to kLookahead files ahead, opening each and asking the kernel to
  // read it in: on a cold cache the reads of many small files then overlap instead of waiting
  // one by one (pulls took twice as long without). A file that does not open is opened again
  // when reached, to report it in order.
  void fill() {
    std::string line;
    while (files_ahead_ < kLookahead && ahead_.size() < kMaxAhead && !split_done_) {
      if (!next_line(line)) {
        split_done_ = true;
        break;
      }
      if (line.empty()) continue;
      Ahead a{with_context("layer " + layer_id_, [&] { return parse_tar_split_line(line); }),
              UniqueFd()};
      if (a.entry.kind == TarSplitEntry::kSegment ? a.entry.bytes.empty() : a.entry.size == 0)
        continue;
      if (a.entry.kind == TarSplitEntry::kFile) {
        try {
          a.fd = open_layer_file(dirs_, a.entry.name);
          ::posix_fadvise(a.fd.get(), 0, 0, POSIX_FADV_WILLNEED);
        } catch (const Error&) {
        }
        ++files_ahead_;
      }
      ahead_.push_back(std::move(a));
    }
  }

  bool next_line(std::string& line) {
    for (;;) {
      if (std::size_t nl = text_.find('\n', text_at_); nl != std::string::npos) {
        line.assign(text_, text_at_, nl - text_at_);
        text_at_ = nl + 1;
        return true;
      }
      text_.erase(0, text_at_);
      text_at_ = 0;
      if (text_.size() > kMaxLine)
        throw_corrupt("tar-split of layer " + layer_id_ + ": a line longer than 64 MiB");
      std::byte chunk[1 << 16];
      std::size_t n = gz_.read_some(chunk);
      if (n == 0) {
        line = std::move(text_);
        text_.clear();
        return !line.empty();
      }
      text_.append(reinterpret_cast<const char*>(chunk), n);
    }
  }

  UniqueFd split_fd_;
  Decompressor gz_;
  std::vector<UniqueFd> dirs_;
  std::string layer_id_;
  std::string text_;
  std::size_t text_at_ = 0;
  std::string seg_;
  std::size_t seg_at_ = 0;
  std::string body_name_;
  std::uint64_t body_size_ = 0, body_left_ = 0;
  UniqueFd body_fd_;
  struct Ahead {
    TarSplitEntry entry;
    UniqueFd fd;  // a file's, opened ahead (invalid if that failed)
  };
  static constexpr std::size_t kLookahead = 64;   // files (descriptors held) per layer
  static constexpr std::size_t kMaxAhead = 4096;  // entries: segments without files are small
  std::deque<Ahead> ahead_;
  std::size_t files_ahead_ = 0;
  bool split_done_ = false;
};

class ContainersStorage final : public ImageSource {
 public:
  explicit ContainersStorage(const std::string& ref) {
    std::string name = ref;
    std::optional<std::string> root;
    if (ref.starts_with('[')) {  // [DRIVER@ROOT+RUNROOT:OPTIONS]NAME, as containers/image spells it
      std::size_t close = ref.find(']');
      if (close == std::string::npos)
        throw Error(EINVAL, "missing ']' in containers-storage:" + ref);
      std::string spec = ref.substr(1, close - 1);
      name = ref.substr(close + 1);
      if (std::size_t at = spec.find('@'); at != std::string::npos && spec.find('/') > at) {
        std::string driver = spec.substr(0, at);
        if (driver != "overlay")
          throw Error(ENOTSUP, "containers-storage: the " + driver +
                                   " storage driver is not supported (overlay is)");
        spec.erase(0, at + 1);
      }
      root = spec.substr(0, std::min(spec.find('+'), spec.find(':')));
      if (root->empty()) throw Error(EINVAL, "an empty storage root in containers-storage:" + ref);
    }
    if (name.empty()) throw Error(EINVAL, "Invalid empty name in containers-storage:" + ref);
    image_ = find_image(discover_stores(root), name);
  }

  std::string reference() const override { return ""; }

  std::pair<std::string, std::string> fetch_manifest(const std::string& reference) override {
    std::string key = reference.empty() ? "manifest" : "manifest-" + reference;
    std::optional<std::string> m = read_big_data(image_, key);
    if (!m) throw Error(ENOENT, "image " + image_.id + " in containers-storage has no " + key);
    return {*m, ""};
  }

  std::unique_ptr<BlobReader> open_blob(const Descriptor& blob) override {
    if (blob.digest == "sha256:" + image_.id) {
      std::optional<std::string> config = read_big_data(image_, blob.digest);
      if (config) return std::make_unique<StringReader>(std::move(*config));
    }
    throw Error(ENOENT,
                "containers-storage keeps no blob " + blob.digest + " of image " + image_.id);
  }

  std::unique_ptr<LocalTar> open_local_layer(const LayerRef& l) override {
    const Layer& layer = find_layer(l);
    return std::make_unique<RebuiltTar>(open_tar_split(image_, layer), layer_dirs(image_, layer),
                                        layer.id);
  }
  std::optional<std::uint64_t> local_layer_size(const LayerRef& l) override {
    return find_layer(l).diff_size;
  }

 private:
  const Layer& find_layer(const LayerRef& l) const {
    for (const Layer& layer : image_.layers) {
      if (layer.diff_digest == l.layer.diff_id) return layer;
    }
    throw_corrupt("image " + image_.id + " in containers-storage has no layer with diff_id " +
                  l.layer.diff_id);
  }

  Image image_;
};

}  // namespace

std::unique_ptr<ImageSource> open_containers_storage(const std::string& ref) {
  return std::make_unique<ContainersStorage>(ref);
}

}  // namespace cfs::oci::cstor
