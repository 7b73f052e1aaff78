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

store::OpenedObject RecordingSource::open(const store::ObjectRef& ref) const {
  {
    std::lock_guard lock(mutex_);
    if (seen_.find(ref.path) == seen_.end()) {
      seen_.emplace(ref.path);
      write_all(file_.get(), std::string(ref.path) + "\n");
    }
  }
  return inner_.open(ref);
}

}  // namespace cfs::mirror
