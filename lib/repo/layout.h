// Reading a repository's directories and links, shared by gc and fsck. Layer: repo.
#pragma once

#include <string>
#include <vector>

namespace cfs::repo {

// The names in directory `dir` (relative to dir_fd), none if it does not exist; a symlink is
// not followed. Throws Error on other failures.
std::vector<std::string> dir_entries(int dir_fd, const std::string& dir);

// The text of symlink `path`; Error if it is not one.
std::string link_text(int dir_fd, const std::string& path);

// The "xx/<rest>" object path that a link text of images/ or streams/ ends with.
std::string object_of_link(const std::string& text);

}  // namespace cfs::repo
