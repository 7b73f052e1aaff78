// A docker:// image name as containers/image's reference package normalizes it: DOMAIN/PATH
// with a tag or a digest. A name whose first component is not a host (no '.' or ':', not
// "localhost") is on docker.io, and a one-component path there is under library/, as skopeo
// (and so composefs-rs) read `docker://debian`. Pure. Layer: oci.
#pragma once

#include <string>

namespace cfs::oci {

struct ImageName {
  std::string domain;  // "docker.io", "quay.io", "127.0.0.1:5000"
  std::string path;    // "library/debian"
  std::string tag;     // "latest" when neither a tag nor a digest is given; "" with a digest
  std::string digest;  // "sha256:…"
  std::string name() const { return domain + "/" + path; }
  // "docker.io/library/debian:latest": what registries.conf prefixes match against.
  std::string str() const { return name() + (digest.empty() ? ":" + tag : "@" + digest); }
  // What the manifest is fetched by: the digest, else the tag.
  const std::string& reference() const { return digest.empty() ? tag : digest; }
};

// Error(EINVAL) naming what is wrong with `ref` ("invalid repository name 'X' in image
// reference REF", "invalid tag", "invalid digest"). NAME:TAG@DIGEST keeps the digest.
ImageName parse_image_name(const std::string& ref);
// The same, but the first component is the domain whatever it looks like: a registries.conf
// location rewritten onto a name ("mirror.local/library/debian:12").
ImageName parse_image_name_at(const std::string& ref);

// The host a domain's registry answers on (docker.io: registry-1.docker.io).
std::string registry_host(const std::string& domain);

}  // namespace cfs::oci
