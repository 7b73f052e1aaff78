#include "repo/stream_cat.h"

#include <unistd.h>

#include <vector>

#include "base/error.h"
#include "base/file_io.h"
#include "repo/layout.h"
#include "repo/splitstream.h"

namespace cfs::repo {

Digest resolve_stream(const Repository& repo, const std::string& name) {
  std::string entry = name;
  if (name.starts_with("refs/")) {
    std::string ref = name.substr(5);
    check_ref_path(ref);
    std::string link = "streams/" + name;
    char buf[4096];
    ssize_t n = ::readlinkat(repo.fd(), link.c_str(), buf, sizeof buf);
    if (n < 0 && (errno == ENOENT || errno == ENOTDIR))
      throw Error(ENOENT, "stream " + name + " not found");
    if (n < 0) throw os_error(errno).wrap("Reading " + link);
    std::optional<std::string> target =
        ref_entry(ref, std::string_view(buf, static_cast<std::size_t>(n)));
    if (!target) throw_corrupt(link + " does not link to a stream (run fsck)");
    entry = *target;
  } else if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..") {
    throw Error(EINVAL, "invalid stream name '" + name + "': an entry of streams/ or refs/NAME");
  }
  std::optional<Digest> object = repo.stream_object(entry);
  if (!object) throw Error(ENOENT, "stream " + name + " not found");
  return *object;
}

void cat_stream(const Repository& repo, const Digest& stream,
                std::optional<std::uint64_t> content_type, const ByteSink& out) {
  UniqueFd fd = repo.open_object(stream);
  MappedFile file = MappedFile::open(fd.get());
  SplitStreamReader reader(file.bytes(), repo.algorithm());
  if (content_type && reader.refs().content_type != *content_type) {
    throw_corrupt("stream " + to_hex(stream) + " has another content type");
  }
  std::vector<std::byte> buf(1 << 20);
  for (;;) {
    std::size_t n = reader.read_inline(buf);
    if (n > 0) {
      out(std::span(buf).first(n));
      continue;
    }
    if (!reader.at_external()) break;
    Digest object = reader.next_external();
    UniqueFd part = repo.open_object(object);
    while ((n = read_some(part.get(), buf)) != 0) out(std::span(buf).first(n));
  }
}

}  // namespace cfs::repo
