// Images and objects from HTTP mirrors of a repository, for cfsctl fetch and mount --remote.
// Layer: tools.
#pragma once

#include <cstdint>
#include <string>

#include "base/digest.h"
#include "mirror/mirrors.h"
#include "repo/repository.h"

namespace cfs::cfsctl {

mirror::MirrorOptions mirror_options();

// The image NAME names, its object fetched from the mirrors when the repository lacks it and
// checked against the digest: NAME is its hex, or a local ref. With `by_mirror_name`, a name the
// repository does not know is asked of the mirror (images/refs/NAME): then the mirror is
// trusted for which image it is. Published, not linked. Throws Error.
Digest fetch_image(repo::Repository& repo, const std::string& name, mirror::Mirrors& mirrors, bool by_mirror_name);

struct FetchedObjects {
  std::size_t total = 0, fetched = 0, failed = 0;
  std::uint64_t bytes = 0;
  std::string first_error;
};
// Every object the stored image needs and the repository lacks, fetched in parallel and
// published (an interrupted run keeps what it finished: run again to resume).
FetchedObjects fetch_image_objects(repo::Repository& repo, const Digest& image, mirror::Mirrors& mirrors);

}  // namespace cfs::cfsctl
