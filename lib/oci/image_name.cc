#include "oci/image_name.h"

#include <regex>

#include "base/error.h"
#include "verity/sha256.h"

namespace cfs::oci {
namespace {

bool looks_like_host(const std::string& component) {
  return component.find('.') != std::string::npos || component.find(':') != std::string::npos ||
         component == "localhost";
}

// `rest` is PATH[:TAG][@DIGEST] after `domain`; `ref` is what the user wrote.
ImageName finish(std::string domain, std::string rest, const std::string& ref) {
  ImageName n;
  n.domain = std::move(domain);
  if (n.domain.empty()) throw Error(EINVAL, "invalid image reference " + ref + ": no registry host");
  if (std::size_t at = rest.find('@'); at != std::string::npos) {
    n.digest = rest.substr(at + 1);
    rest = rest.substr(0, at);
    if (!verity::is_sha256_digest(n.digest)) throw Error(EINVAL, "invalid digest in image reference " + ref);
  }
  if (std::size_t colon = rest.rfind(':'); colon != std::string::npos && rest.find('/', colon) == std::string::npos) {
    if (n.digest.empty()) n.tag = rest.substr(colon + 1);
    rest = rest.substr(0, colon);
  } else if (n.digest.empty()) {
    n.tag = "latest";
  }
  static const std::regex kName(R"([a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*)");
  static const std::regex kTag(R"([A-Za-z0-9_][A-Za-z0-9._-]{0,127})");
  if (!std::regex_match(rest, kName)) throw Error(EINVAL, "invalid repository name '" + rest + "' in image reference " + ref);
  if (n.digest.empty() && !std::regex_match(n.tag, kTag)) {
    throw Error(EINVAL, "invalid tag '" + n.tag + "' in image reference " + ref);
  }
  if (n.domain == "docker.io" && rest.find('/') == std::string::npos) rest = "library/" + rest;
  n.path = rest;
  return n;
}

}  // namespace

ImageName parse_image_name(const std::string& ref) {
  std::size_t slash = ref.find('/');
  std::string first = ref.substr(0, slash);
  if (slash != std::string::npos && looks_like_host(first)) return finish(first, ref.substr(slash + 1), ref);
  return finish("docker.io", ref, ref);
}

ImageName parse_image_name_at(const std::string& ref) {
  std::size_t slash = ref.find('/');
  if (slash == std::string::npos) throw Error(EINVAL, "invalid image reference " + ref + ": no repository after the host");
  return finish(ref.substr(0, slash), ref.substr(slash + 1), ref);
}

std::string registry_host(const std::string& domain) {
  return domain == "docker.io" ? "registry-1.docker.io" : domain;
}

}  // namespace cfs::oci
