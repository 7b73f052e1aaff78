#include "mirror/recorder.h"

#include <fcntl.h>

#include <cerrno>

#include "base/error.h"
#include "base/file_io.h"

namespace cfs::mirror {

RecordingSource::RecordingSource(const store::ObjectSource& inner, const std::string& file, Log log)
    : inner_(inner), name_(file),
      file_(::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644)), log_(std::move(log)) {
  if (!file_) throw_errno(errno, file);
}

void RecordingSource::record(std::string_view path) const noexcept {
  try {
    std::lock_guard lock(mutex_);
    if (stopped_ || !seen_.emplace(path).second) return;
    try {
      write_all(file_.get(), std::string(path) + "\n");
    } catch (const Error& e) {
      stopped_ = true;
      if (log_) log_("record " + name_ + ": " + e.what() + "; recording stopped (the opens go on)");
    }
  } catch (...) {  // out of memory: this object is not recorded
  }
}

store::OpenedObject RecordingSource::open(const store::ObjectRef& ref) const {
  record(ref.path);
  return inner_.open(ref);
}

store::ResolvedObject RecordingSource::resolve(const store::ObjectRef& ref) const {
  record(ref.path);
  return inner_.resolve(ref);
}

std::shared_ptr<store::PartialObject> RecordingSource::open_partial(const store::ObjectRef& ref) const {
  record(ref.path);
  return inner_.open_partial(ref);
}

}  // namespace cfs::mirror
