// RecordingSource: an ObjectSource that writes down, one line each, the store path of every
// object in the order it is first asked for ("xx/<rest>"): the start-up set of a container or a
// boot, which a later mount prefetches (mirror/prefetch.h). Each line is written as it happens,
// so a mount killed mid-run leaves a valid record. The record is optional: it never fails an
// open. When it cannot be written (a full disk), one log line says so and recording stops.
// Layer: mirror. Thread-safe.
#pragma once

#include <functional>
#include <mutex>
#include <set>
#include <string>

#include "base/unique_fd.h"
#include "store/object_source.h"

namespace cfs::mirror {

class RecordingSource final : public store::ObjectSource {
 public:
  using Log = std::function<void(const std::string&)>;
  // Creates or truncates `file`. Borrows `inner`. Throws Error.
  RecordingSource(const store::ObjectSource& inner, const std::string& file, Log log);

  store::OpenedObject open(const store::ObjectRef& ref) const override;
  std::shared_ptr<store::PartialObject> open_partial(const store::ObjectRef& ref) const override;
  store::ResolvedObject resolve(const store::ObjectRef& ref) const override;
  void cancel_waits() const override { inner_.cancel_waits(); }

 private:
  void record(std::string_view path) const noexcept;

  const store::ObjectSource& inner_;
  std::string name_;
  UniqueFd file_;
  Log log_;
  mutable std::mutex mutex_;
  mutable std::set<std::string, std::less<>> seen_;
  mutable bool stopped_ = false;  // a write failed
};

}  // namespace cfs::mirror
