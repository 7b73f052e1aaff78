// Reading a repository's directories, files and links, shared by the Repository, gc and fsck:
// the one place that says which files may be opened and how a link must be spelled
// (docs/repository.md). Layer: repo.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/digest.h"
#include "base/unique_fd.h"

namespace cfs::repo {

// The names in directory `dir` (relative to dir_fd), none if it does not exist; a symlink is
// not followed. Throws Error on other failures.
std::vector<std::string> dir_entries(int dir_fd, const std::string& dir);

// The text of symlink `path`; Error if it is not one.
std::string link_text(int dir_fd, const std::string& path);

// The "xx/<rest>" object path that a link text of images/ or streams/ ends with.
std::string object_of_link(const std::string& text);

// A repository file (meta.json, objects/xx/<rest>) opened for reading: only a regular file
// beneath the repository, reached through no symlink, opened O_NONBLOCK; a FIFO or device is
// refused without being opened, so nothing waits on it. An invalid fd when it does not exist;
// Error ("refused: PATH is not a regular file", or strerror) otherwise.
UniqueFd open_repo_file(int repo_fd, const std::string& path);

// Whether `path` is such a file (looked at, never opened). Throws Error on I/O errors.
bool has_repo_file(int repo_fd, const std::string& path);

// The path a link at `link` (relative to the repository) must hold to reach `target` (also
// relative to it), as composefs-rs spells it: "../" per directory of `link`, then `target`
// without the components the two share ("images/x" -> "objects/ab/cd" is "../objects/ab/cd").
std::string link_text_to(const std::string& link, const std::string& target);

// The object a top-level entry of images/ or streams/ links to, if its text is exactly what
// composefs-rs writes ("../objects/xx/<rest>", lowercase hex of `algorithm`'s length); nullopt
// for any other text (an absolute path, a path out of the repository, another directory).
std::optional<Digest> linked_object(std::string_view text, HashAlgorithm algorithm);

// Refuses (Error EINVAL, "invalid name 'REF'…") a ref name that could not be a path below
// <category>/refs/: an empty component (a leading, trailing or double slash), "." or "..".
void check_ref_path(std::string_view ref);

// The entry of images/ or streams/ a ref links to: `ref` is the ref's path below
// <category>/refs/ ("a/b"), and its text must be one "../" per component of `ref`, then the
// entry's name; nullopt for any other text.
std::optional<std::string> ref_entry(std::string_view ref, std::string_view text);

}  // namespace cfs::repo
