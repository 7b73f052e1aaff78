// The objects an image in a repository needs: its external files' "xx/<rest>" paths beneath
// objects/, read with our checked reader. Layer: repo.
#pragma once

#include <set>
#include <string>

namespace cfs::repo {

// Every distinct backing-object path the image open as `image_fd` names. Throws Error for an
// image that does not parse.
std::set<std::string> image_object_paths(int image_fd);

}  // namespace cfs::repo
