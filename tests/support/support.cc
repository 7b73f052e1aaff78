#include "support/support.h"

#include <fcntl.h>
#include <openssl/sha.h>
#include <poll.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <csignal>

#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>

extern char** environ;

namespace cfs::test {

const char* const kWorkedExampleDump =
    "/ 4096 40755 3 0 0 0 1700000000.0 - - - user.a=1\n"
    "/dir 4096 40700 2 1000 1000 0 1700000000.0 - - - user.a=1\n"
    "/dir/hello 6 100644 2 1000 1000 0 1700000000.0 - hello\\n - \n"
    "/file 5000 100644 1 0 0 0 1700000001.5 ab/cdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789 - "
    "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789 trusted.overlay.opaque=y\n"
    "/link 3 120777 1 0 0 0 1700000000.0 dir - -\n"
    "/hl 6 @100644 2 1000 1000 0 1700000000.0 /dir/hello - -\n"
    "/wh 0 20644 1 0 0 0 1700000000.0 - - -\n";

std::optional<fs::path> upstream_vectors_dir() {
  fs::path p = std::getenv("CFS_VECTORS") ? fs::path(std::getenv("CFS_VECTORS"))
                                          : fs::path(CFS_SOURCE_DIR) / ".." / "shared" / "vectors";
  if (fs::is_directory(p / "upstream")) return fs::canonical(p);
  return std::nullopt;
}

std::optional<fs::path> debian_root(const std::string& recipe, std::string& why) {
  Run r = run({"bash", (fs::path(CFS_SOURCE_DIR) / "tests" / "debian" / "root.sh").string(), recipe});
  if (r.status == 0 && !r.out.empty()) return fs::path(r.out.substr(0, r.out.find('\n')));
  why = r.err.empty() ? "tests/debian/root.sh " + recipe + " failed" : r.err;
  if (r.status != 77) ADD_FAILURE() << "tests/debian/root.sh " << recipe << ": " << r.err;
  return std::nullopt;
}

fs::path repo_vectors() { return fs::path(CFS_SOURCE_DIR) / "tests" / "vectors"; }

std::vector<Expected> expected(const fs::path& sha256_file) {
  std::vector<Expected> out;
  std::istringstream lines(read_file(sha256_file));
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream words(line);
    Expected e;
    words >> e.seed;
    for (std::string w; words >> w;) e.fields.push_back(w);
    out.push_back(std::move(e));
  }
  if (out.empty()) throw std::runtime_error("no vectors in " + sha256_file.string());
  return out;
}

std::string generated_dump(const std::string& seed) {
  return read_file(repo_vectors() / "dumps" / (seed + ".dump.gz"));
}

std::string extract_tree(const std::string& seed, const fs::path& dir) {
  fs::create_directories(dir);
  auto r = run({"tar", "--xattrs", "--xattrs-include=*", "--numeric-owner", "--same-permissions",
                "--same-owner", "--warning=no-timestamp", "-xzf",
                (repo_vectors() / "trees" / (seed + ".tar.gz")).string(), "-C", dir.string()});
  return r.status == 0 ? "" : "tar: " + r.err;
}

fs::path tool(const std::string& name) { return fs::path(CFS_TOOLS_DIR) / name; }

namespace {

bool others_can_run(const fs::path& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0 || (st.st_mode & S_IXOTH) == 0) return false;
  for (fs::path dir = file.parent_path(); ; dir = dir.parent_path()) {
    if (::stat(dir.c_str(), &st) != 0 || (st.st_mode & S_IXOTH) == 0) return false;
    if (dir == dir.root_path()) return true;
  }
}

// Copies of tools for unprivileged users, gone with the test process.
class ToolCopies {
 public:
  ~ToolCopies() {
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }
  fs::path copy(const fs::path& binary) {
    std::lock_guard lock(mutex_);
    if (dir_.empty()) {
      std::string tmpl = (fs::temp_directory_path() / "cfs-tools-XXXXXX").string();
      if (mkdtemp(tmpl.data()) == nullptr) abort();
      dir_ = tmpl;
      fs::permissions(dir_, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
    }
    fs::path out = dir_ / binary.filename();
    if (!fs::exists(out)) {
      fs::copy_file(binary, out);
      fs::permissions(out, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                               fs::perms::others_read | fs::perms::others_exec);
    }
    return out;
  }

 private:
  std::mutex mutex_;
  fs::path dir_;
};

}  // namespace

fs::path tool_for_anyone(const std::string& name) {
  static ToolCopies copies;
  fs::path built = tool(name);
  return others_can_run(built) ? built : copies.copy(built);
}

bool in_ci() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

std::string read_file(const fs::path& p) {
  if (p.extension() == ".gz") {
    gzFile gz = gzopen(p.c_str(), "rb");
    if (gz == nullptr) throw std::runtime_error("cannot open " + p.string());
    std::string out;
    char buf[65536];
    for (int n; (n = gzread(gz, buf, sizeof buf)) > 0;) out.append(buf, n);
    gzclose(gz);
    return out;
  }
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + p.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const fs::path& p, std::string_view data) {
  std::ofstream out(p, std::ios::binary);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

std::string sha256_hex(std::span<const std::byte> data) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), md);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  for (unsigned char c : md) {
    s += kHex[c >> 4];
    s += kHex[c & 15];
  }
  return s;
}

std::string sha256_hex(std::string_view data) { return sha256_hex(std::as_bytes(std::span(data))); }

namespace {

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// Git symlinks in the vectors arrive as small files holding the target's name.
fs::path follow_text_link(const fs::path& p) {
  if (fs::file_size(p) > 255) return p;
  std::string target = read_file(p);
  if (target.find('\n') != std::string::npos || target.find('/') != std::string::npos) return p;
  fs::path sibling = p.parent_path() / target;
  return fs::is_regular_file(sibling) && sibling != p ? sibling : p;
}

}  // namespace

std::vector<Upstream> upstream_assets(const fs::path& dir) {
  std::vector<Upstream> out;
  for (const auto& e : fs::directory_iterator(dir / "upstream")) {
    std::string name = e.path().filename();
    if (!name.ends_with(".sha256")) continue;
    std::string base = name.substr(0, name.size() - 7);
    Upstream u;
    u.name = base;
    u.dump = read_file(follow_text_link(dir / "upstream" / base));
    u.sha256 = trim(read_file(e.path()));
    fs::path vfile = dir / "upstream" / (base + ".version");
    if (fs::exists(vfile)) u.version = std::stoul(read_file(vfile));
    u.strict = base != "no-newline.dump" && base != "longlink.dump" &&
               base != "honggfuzz-longlink-unterminated.dump";
    out.push_back(std::move(u));
  }
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.name < b.name; });
  return out;
}

std::vector<fs::path> should_fail_assets(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir / "upstream")) {
    if (e.path().filename().string().starts_with("should-fail-")) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

Run run(const std::vector<std::string>& argv, const std::string& input,
        const std::vector<std::string>& env) {
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC)) abort();
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err[1], 2);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<std::string> envs;
  auto overridden = [&](std::string_view entry) {  // an extra "K=V" replaces this process's K
    std::string_view name = entry.substr(0, entry.find('='));
    for (const auto& e : env) {
      if (e.size() > name.size() && e.compare(0, name.size(), name) == 0 && e[name.size()] == '=') return true;
    }
    return false;
  };
  for (char** e = environ; *e != nullptr; ++e) {
    if (!overridden(*e)) envs.emplace_back(*e);
  }
  for (const auto& e : env) envs.push_back(e);
  std::vector<char*> envp;
  for (auto& e : envs) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t pid;
  Run r;
  if (posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), envp.data()) != 0) {
    r.err = "cannot start " + argv[0];
    return r;
  }
  posix_spawn_file_actions_destroy(&fa);
  close(in[0]);
  close(out[1]);
  close(err[1]);
  std::size_t written = 0;
  if (input.empty()) close(in[1]);
  bool in_open = !input.empty();
  fcntl(in[1], F_SETFL, O_NONBLOCK);
  bool out_open = true, err_open = true;
  while (out_open || err_open) {
    pollfd fds[3] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}, {in_open ? in[1] : -1, POLLOUT, 0}};
    poll(fds, 3, -1);
    char buf[65536];
    for (int i = 0; i < 2; ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP))) continue;
      ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n <= 0) {
        (i == 0 ? out_open : err_open) = false;
        continue;
      }
      (i == 0 ? r.out : r.err).append(buf, n);
    }
    if (in_open && (fds[2].revents & (POLLOUT | POLLERR))) {
      ssize_t n = write(in[1], input.data() + written, input.size() - written);
      if (n > 0) written += n;
      if (n < 0 || written == input.size()) {
        close(in[1]);
        in_open = false;
      }
    }
  }
  if (in_open) close(in[1]);
  close(out[0]);
  close(err[0]);
  int status;
  waitpid(pid, &status, 0);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

std::vector<std::string> with_fd_limit(unsigned limit, std::vector<std::string> argv) {
  argv.insert(argv.begin(), {"sh", "-c", "ulimit -n " + std::to_string(limit) + " && exec \"$@\"", "sh"});
  return argv;
}

Run cfsctl(const fs::path& repo, std::vector<std::string> args, const std::string& input,
           const std::vector<std::string>& env) {
  args.insert(args.begin(), {tool("cfsctl").string(), "--repo", repo.string()});
  return run(args, input, env);
}

TempDir::TempDir() {
  std::string tmpl = (fs::temp_directory_path() / "cfs-test-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) abort();
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

Tmpfs::Tmpfs(const fs::path& dir, const std::string& size) : dir_(dir) {
  fs::create_directories(dir);
  ok_ = ::mount("tmpfs", dir.c_str(), "tmpfs", 0, ("size=" + size).c_str()) == 0;
}

Tmpfs::~Tmpfs() {
  if (ok_) ::umount2(dir_.c_str(), MNT_DETACH);
}

bool one_error(const std::string& err) {
  if (!err.starts_with("Error: ") || !err.ends_with("\n")) return false;
  std::istringstream lines(err.substr(err.find('\n') + 1));
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty() && line != "Caused by:" && !line.starts_with("    ")) return false;
  }
  return true;
}

}  // namespace cfs::test

namespace {
// Tools under test may exit before reading all of their stdin.
const bool kIgnoreSigpipe = [] {
  signal(SIGPIPE, SIG_IGN);
  return true;
}();
}  // namespace
