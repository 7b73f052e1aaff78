// Checking a repository, as cfsctl fsck: every object's fs-verity digest against its name (in
// parallel), every image parses with our checked reader and has its objects, links resolve
// and lead where composefs-rs's links do (images/<ID> to its own object, streams/ to an object,
// refs to an entry; repo/layout.h). Only regular files are opened, never waited on: a FIFO, a
// device or a symlinked objects/xx is reported. Also says which images a broken or missing
// object affects. Layer: repo.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "base/progress.h"
#include "repo/repository.h"

namespace cfs::repo {

struct FsckReport {
  bool has_metadata = false;
  bool metadata_error = false;
  std::uint64_t objects_checked = 0, objects_corrupted = 0;
  std::uint64_t streams_checked = 0, streams_corrupted = 0;
  std::uint64_t images_checked = 0, images_corrupted = 0;
  std::uint64_t broken_links = 0, missing_objects = 0;
  std::vector<std::string> errors;  // "fsck: <kind>: <path>: <detail>"
  // Images (hex) whose objects are corrupt or missing, with those objects' paths.
  std::map<std::string, std::set<std::string>> affected_images;

  bool ok() const { return errors.empty(); }
  std::string text() const;  // cfsctl's report, plus the affected images
  std::string json() const;  // cfsctl's --json
};

// Throws Error only when the check itself cannot run (an unreadable objects/xx). `progress`
// (may be null) counts the objects checked and their bytes.
FsckReport fsck(Repository& repo, bool metadata_only, Progress* progress = nullptr);

}  // namespace cfs::repo
