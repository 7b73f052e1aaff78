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

int spawn_wait(std::vector<std::string> args, const std::vector<std::string>& extra_env,
               posix_spawn_file_actions_t* actions) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) env.emplace_back(*e);
  env.insert(env.end(), extra_env.begin(), extra_env.end());
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t pid;
  int rc = posix_spawnp(&pid, argv[0], actions, nullptr, argv.data(), envp.data());
  if (rc != 0) return -rc;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

// The first line fusermount3 wrote to stderr, for the error message ("" when
// silent).
std::string first_line(int fd) {
  std::string text;
  char buf[512];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0 && text.size() < 4096;) text.append(buf, n);
  text = text.substr(0, text.find('\n'));
  return text;
}

UniqueFd mount_with_fusermount(const std::string& mountpoint, const std::string& opts) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) throw_errno(errno);
  UniqueFd ours(sv[0]), theirs(sv[1]);
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) throw_errno(errno);
  UniqueFd err_read(pipe_fds[0]), err_write(pipe_fds[1]);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  // The helper's end must survive exec: dup it to a fixed descriptor without
  // CLOEXEC.
  posix_spawn_file_actions_adddup2(&fa, theirs.get(), 3);
  // Its complaints (e.g. allow_other refused by /etc/fuse.conf) become our
  // one-line error.
  posix_spawn_file_actions_adddup2(&fa, err_write.get(), STDERR_FILENO);
  int rc = spawn_wait({"fusermount3", "-o", opts, "--", mountpoint}, {"_FUSE_COMMFD=3"}, &fa);
  posix_spawn_file_actions_destroy(&fa);
  if (rc < 0) throw Error(-rc, std::string("cannot run fusermount3: ") + std::strerror(-rc));
  theirs.reset();
  err_write.reset();
  std::string complaint = first_line(err_read.get());
  char byte;
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  if (rc != 0 || ::recvmsg(ours.get(), &msg, MSG_CMSG_CLOEXEC) <= 0) {
    throw Error(EPERM, complaint.empty() ? "fusermount3 failed to mount " + mountpoint : complaint);
  }
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  if (c == nullptr || c->cmsg_type != SCM_RIGHTS) throw Error(EIO, "fusermount3 sent no fd");
  int fd;
  std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
  return UniqueFd(fd);
}

}  // namespace

UniqueFd mount_fuse(const std::string& mountpoint, const MountOptions& o) {
  std::string name = sanitize(o.fsname);
  if (::geteuid() != 0) {
    std::string opts = "ro,nosuid,nodev,default_permissions,fsname=" + name + ",subtype=composefs";
    if (o.allow_other) opts += ",allow_other";  // fusermount3 checks /etc/fuse.conf
    if (o.noexec) opts += ",noexec";
    return mount_with_fusermount(mountpoint, opts);
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
  return fd;
}

void unmount_fuse(const std::string& mountpoint) {
  if (::geteuid() == 0) {
    ::umount2(mountpoint.c_str(), MNT_DETACH);
    return;
  }
  spawn_wait({"fusermount3", "-u", "-z", "--", mountpoint}, {}, nullptr);
}

}  // namespace cfs::fuse
