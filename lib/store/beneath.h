// Opening files inside a directory the way overlayfs follows a redirect: never above the
// directory (no "..", no absolute path), never through a symlink or /proc magic link, and
// nothing but a regular file is opened for reading (a device or FIFO is only looked at, never
// opened, so an image cannot make us block on a FIFO or poke a device). Layer: store.
#pragma once

#include <string_view>

#include "base/unique_fd.h"

namespace cfs::store {

// A read-only fd of the regular file `path` beneath `dir_fd`; an invalid fd when nothing is
// there (ENOENT). Throws Error with a one-line reason when the path is refused (it leaves the
// directory, crosses a symlink, names something other than a regular file) or on I/O errors
// (then just strerror: callers name the file).
UniqueFd open_regular_beneath(int dir_fd, std::string_view path);

// The same resolution, opening directly for reading (one system call instead of three):
// for a file a scan has just seen as regular, as a build of a tree does. O_NONBLOCK, so an
// entry swapped for a FIFO meanwhile cannot block; anything not regular is then refused.
UniqueFd open_scanned_file_beneath(int dir_fd, std::string_view path);

// Whether `path` resolves, by those rules, to a regular file beneath `dir_fd` (looked at,
// not opened). A refused path is not there. Throws Error on I/O errors.
bool has_regular_beneath(int dir_fd, std::string_view path);

// The same resolution for a directory, opened O_PATH; invalid when absent. Throws Error.
UniqueFd open_dir_beneath(int dir_fd, std::string_view path);

}  // namespace cfs::store
