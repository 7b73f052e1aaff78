// The composefs filesystem as FUSE requests see it: each request decoded (length-checked,
// fuse/request.h), answered from a reader::Image and an ObjectSource, and its reply handed to
// a Channel. No /dev/fuse here: tests drive it in process with requests as bytes. Layer: fuse.
// Thread-safety: handle() may be called from several threads at once.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "fuse/channel.h"
#include "fuse/server.h"
#include "reader/image.h"
#include "store/object_source.h"

namespace cfs::fuse {

class Operations {
 public:
  // Borrows everything; they must outlive it.
  Operations(const reader::Image& image, const store::ObjectSource& objects,
             const ServerOptions& options, ServerStats& stats, Channel& channel);
  ~Operations();  // finishes late replies, gives back every backing id

  // One request: its bytes as read from /dev/fuse.
  void handle(const char* request, std::size_t size);
  // FUSE_DESTROY came: the session is over.
  bool destroyed() const;
  // FUSE_INIT agreed on FUSE over io_uring (ServerOptions::uring not off, and the kernel offered it).
  bool over_uring() const;
  // One line to the server's log (stderr or syslog, as the options say).
  void log(const std::string& line) const;

  // For tests: what is held now.
  std::size_t open_files() const;
  std::size_t known_inodes() const;
  std::size_t waiting_replies() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cfs::fuse
