#include "fuse/mount_fuse.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "base/error.h"

extern char** environ;

namespace cfs::fuse {
namespace {

// fsname goes into a comma-separated option string: keep it to safe characters.
std::string sanitize(const std::string& s) {
  std::string out;
  for (char c : s) out += (c == ',' || c == '\\' || c == '=' || c == ' ') ? '_' : c;
  return out;
}

// A running fusermount3, its stderr captured: the first line of a refusal becomes our
// one-line error.
struct Fusermount {
  pid_t pid;
  UniqueFd stderr_read;
};

// Starts fusermount3 with `args`; `comm_fd` (>= 0) is handed over as its fd 3.
Fusermount spawn_fusermount(std::vector<std::string> args, int comm_fd) {
  args.insert(args.begin(), "fusermount3");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) env.emplace_back(*e);
  if (comm_fd >= 0) env.emplace_back("_FUSE_COMMFD=3");
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) throw_errno(errno);
  UniqueFd err_read(pipe_fds[0]), err_write(pipe_fds[1]);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  // dup2 clears CLOEXEC on the copy: the helper keeps exactly these two.
  if (comm_fd >= 0) posix_spawn_file_actions_adddup2(&fa, comm_fd, 3);
  posix_spawn_file_actions_adddup2(&fa, err_write.get(), STDERR_FILENO);
  pid_t pid;
  int rc = posix_spawnp(&pid, argv[0], &fa, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) throw Error(rc, std::string("cannot run fusermount3: ") + std::strerror(rc));
  return {pid, std::move(err_read)};
}

// Waits for it to end; throws Error with its first line of stderr when it failed.
void finish_fusermount(Fusermount& f) {
  std::string text;
  char buf[512];
  for (ssize_t n; (n = ::read(f.stderr_read.get(), buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR);) {
    if (n > 0 && text.size() < 4096) text.append(buf, static_cast<std::size_t>(n));
  }
  int status = 0;
  while (::waitpid(f.pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
  text = text.substr(0, text.find('\n'));
  throw Error(EPERM, text.empty() ? "fusermount3 failed" : text);
}

// The fd fusermount3 passes back over `sock`; invalid when it sent none.
UniqueFd receive_fd(int sock) {
  char byte;
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  cmsghdr* c = n > 0 ? CMSG_FIRSTHDR(&msg) : nullptr;
  if (c == nullptr || c->cmsg_type != SCM_RIGHTS) return UniqueFd();
  int fd;
  std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
  return UniqueFd(fd);
}

// With auto_unmount, fusermount3 stays behind after the mount, waiting for our end of the
// socket to close (our exit, however it comes), and then unmounts.
MountedFuse mount_with_fusermount(const std::string& mountpoint, const std::string& opts, bool auto_unmount) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) throw_errno(errno);
  UniqueFd ours(sv[0]), theirs(sv[1]);
  Fusermount helper = spawn_fusermount({"-o", opts, "--", mountpoint}, theirs.get());
  theirs.reset();
  UniqueFd fuse = receive_fd(ours.get());
  if (fuse && auto_unmount) return {std::move(fuse), std::move(ours)};  // it lives on
  finish_fusermount(helper);  // throws its refusal
  if (!fuse) throw Error(EIO, "fusermount3 sent no fd");
  return {std::move(fuse), UniqueFd()};
}

}  // namespace

MountedFuse mount_fuse(const std::string& mountpoint, const MountOptions& o) {
  std::string name = sanitize(o.fsname);
  if (::geteuid() != 0 || o.auto_unmount) {  // root too: only fusermount3 can auto-unmount
    std::string opts = "ro,nosuid,nodev,default_permissions,fsname=" + name + ",subtype=composefs";
    if (o.allow_other) opts += ",allow_other";  // fusermount3 checks /etc/fuse.conf
    if (o.noexec) opts += ",noexec";
    if (o.auto_unmount) opts += ",auto_unmount";
    return mount_with_fusermount(mountpoint, opts, o.auto_unmount);
  }
  struct stat st {};
  if (::stat(mountpoint.c_str(), &st) != 0) throw_errno(errno, mountpoint);
  UniqueFd fd(::open("/dev/fuse", O_RDWR | O_CLOEXEC));
  if (!fd) throw_errno(errno, "/dev/fuse");
  std::string opts =
      "fd=" + std::to_string(fd.get()) + ",rootmode=40000,user_id=0,group_id=0,default_permissions";
  if (o.allow_other) opts += ",allow_other";
  unsigned long flags = MS_NOSUID | MS_NODEV | MS_RDONLY | (o.noexec ? MS_NOEXEC : 0);
  if (::mount(name.c_str(), mountpoint.c_str(), "fuse.composefs", flags, opts.c_str()) != 0) {
    throw_errno(errno, mountpoint);
  }
  return {std::move(fd), UniqueFd()};
}

void unmount_fuse(const std::string& mountpoint) {
  if (::geteuid() == 0) {
    if (::umount2(mountpoint.c_str(), MNT_DETACH) != 0) throw_errno(errno, "umount " + mountpoint);
    return;
  }
  Fusermount helper = spawn_fusermount({"-u", "-z", "--", mountpoint}, -1);
  finish_fusermount(helper);
}

}  // namespace cfs::fuse
