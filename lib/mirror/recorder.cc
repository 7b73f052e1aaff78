#include "mirror/recorder.h"

#include <fcntl.h>

#include <cerrno>

#include "base/error.h"
#include "base/file_io.h"

namespace cfs::mirror {

RecordingSource::RecordingSource(const store::ObjectSource& inner, const std::string& file)
    : inner_(inner), file_(::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644)) {
  if (!file_) throw_errno(errno, file);
}

void RecordingSource::record(std::string_view path) const {
  std::lock_guard lock(mutex_);
  if (seen_.find(path) != seen_.end()) return;
  seen_.emplace(path);
  write_all(file_.get(), std::string(path) + "\n");
}

store::OpenedObject RecordingSource::open(const store::ObjectRef& ref) const {
  record(ref.path);
  return inner_.open(ref);
}

std::shared_ptr<store::PartialObject> RecordingSource::open_partial(const store::ObjectRef& ref) const {
  record(ref.path);
  return inner_.open_partial(ref);
}

}  // namespace cfs::mirror
