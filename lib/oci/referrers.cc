#include "oci/referrers.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>

#include "oci/stored.h"
#include "repo/layout.h"
#include "verity/sha256.h"

namespace cfs::oci {
namespace {

constexpr std::string_view kReferrerDir = "oci-referrers/";

std::string subject_dir(const std::string& subject) {
  return "streams/refs/" + std::string(kReferrerDir) + encode_tag(subject);
}

}  // namespace

void add_referrer(repo::Repository& repo, const std::string& subject, const std::string& artifact) {
  repo::replace_symlink(repo.fd(), subject_dir(subject) + "/" + encode_tag(artifact),
                        "streams/" + manifest_stream_name(artifact));
}

std::vector<std::string> list_referrers(const repo::Repository& repo, const std::string& subject) {
  std::vector<std::string> out;
  std::string dir = subject_dir(subject);
  for (const std::string& name : repo::dir_entries(repo.fd(), dir)) {
    std::string artifact = decode_tag(name);
    if (!verity::is_sha256_digest(artifact)) continue;
    struct stat st {};
    if (::fstatat(repo.fd(), (dir + "/" + name).c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 ||
        !S_ISLNK(st.st_mode))
      continue;
    std::string text = repo::link_text(repo.fd(), dir + "/" + name);
    if (text.substr(text.rfind('/') + 1) != manifest_stream_name(artifact)) continue;
    if (repo.stream_object(manifest_stream_name(artifact))) out.push_back(artifact);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::optional<std::string> referrer_subject_stream(std::string_view ref) {
  if (!ref.starts_with(kReferrerDir)) return std::nullopt;
  ref.remove_prefix(kReferrerDir.size());
  std::size_t slash = ref.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  return manifest_stream_name(decode_tag(ref.substr(0, slash)));
}

}  // namespace cfs::oci
