// BuildError: why building a tree from a directory failed, as data: which entry (its path
// below the source, "/a/b"; "" for the source itself), which step, the errno and the reason.
// Callers compose their own messages (mkcomposefs prints upstream's). Layer: fsbuild.
#pragma once

#include <string>

#include "base/error.h"

namespace cfs::fsbuild {

class BuildError : public Error {
 public:
  enum class Step {
    kScan,  // reading the entry itself: stat, readdir, readlink, xattrs
    kFile,  // reading a regular file's contents, or storing them
  };
  BuildError(Step step, int err, std::string path, const std::string& reason)
      : Error(err, (path.empty() ? std::string(".") : path) + ": " + reason),
        step_(step),
        path_(std::move(path)),
        reason_(reason) {}
  Step step() const { return step_; }
  const std::string& path() const { return path_; }
  const std::string& reason() const { return reason_; }

 private:
  Step step_;
  std::string path_;
  std::string reason_;
};

}  // namespace cfs::fsbuild
