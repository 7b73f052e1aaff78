// Objects on demand from HTTP mirrors: composefs-fuse -o remote=URL over an empty cache against
// Debian's nginx serving a repository, and against a mirror that misbehaves
// (tests/integration/fake_mirror.py); record/prefetch; cfsctl fetch and mount --remote.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <set>
#include <thread>

#include "base/digest.h"
#include "base/unique_fd.h"
#include "support/fs_compare.h"
#include "support/fuse_mount.h"
#include "support/nginx.h"
#include "support/server_process.h"
#include "support/support.h"
#include "verity/measure.h"

namespace cfs {
namespace {

namespace fs = test::fs;
using test::FuseMount;
using test::run;
using test::tool;

#define REQUIRE_MIRRORS()                                                              \
  CFS_REQUIRE(fs::exists("/dev/fuse"), "no /dev/fuse");                                \
  CFS_REQUIRE(::geteuid() == 0, "the mirror tests mount as root");                     \
  CFS_REQUIRE(test::Nginx::available(), "nginx is not installed (apt install nginx)"); \
  CFS_REQUIRE(run({"python3", "-c", "pass"}).status == 0, "python3 is not installed")

// The store path of a file's object: its fs-verity digest.
std::string object_of(const fs::path& file, HashAlgorithm algorithm = HashAlgorithm::kSha256) {
  UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  return object_path(verity::compute_from_fd(fd.get(), algorithm));
}

// The "xx/<rest>" of every file below a store; anything else found there is reported as is.
std::set<std::string> objects_in(const fs::path& store) {
  std::set<std::string> out;
  if (!fs::exists(store)) return out;
  for (const auto& e : fs::recursive_directory_iterator(store)) {
    if (!e.is_directory()) out.insert(fs::relative(e.path(), store).string());
  }
  return out;
}

// The objects below a store once none has been named for half a second (a mount names what
// it fetched in batches, a moment after serving it).
std::set<std::string> settled(const fs::path& store) {
  std::set<std::string> now = objects_in(store);
  for (int i = 0; i < 40; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    std::set<std::string> later = objects_in(store);
    if (later == now) break;
    now = std::move(later);
  }
  return now;
}

std::string slurp(const fs::path& p, int* error = nullptr) {
  UniqueFd fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC));
  std::string out;
  if (!fd) {
    if (error) *error = errno;
    return out;
  }
  char buf[65536];
  for (ssize_t n; (n = ::read(fd.get(), buf, sizeof buf)) != 0;) {
    if (n < 0) {
      if (error) *error = errno;
      return out;
    }
    out.append(buf, static_cast<std::size_t>(n));
  }
  if (error) *error = 0;
  return out;
}

template <class Pred>
bool eventually(Pred pred, int seconds = 20) {
  for (int i = 0; i < seconds * 20; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return pred();
}

// A directory served as a mirror: objects/ is the store mkcomposefs fills for the image.
struct Site {
  test::TempDir tmp;
  fs::path src = tmp / "src", repo = tmp / "repo", image = tmp / "image.cfs", cache = tmp / "cache",
           mnt = tmp / "mnt";
  // Without a seed: big (600000 bytes), dir/a (100000), dir/b (50000) external, small inline.
  explicit Site(const std::string& seed = "") {
    if (seed.empty()) {
      fs::create_directories(src / "dir");
      test::write_file(src / "big", test::patterned(600000));
      test::write_file(src / "dir" / "a", std::string(100000, 'a'));
      test::write_file(src / "dir" / "b", std::string(50000, 'b'));
      test::write_file(src / "small", "hi\n");
    } else {
      EXPECT_EQ(test::extract_tree(seed, src), "");
    }
    fs::create_directories(repo / "objects");
    auto r = run({tool("mkcomposefs").string(), "--digest-store=" + (repo / "objects").string(), src.string(),
                  image.string()});
    EXPECT_EQ(r.status, 0) << r.err;
    fs::create_directories(mnt);
  }
  std::set<std::string> all_objects() const { return objects_in(repo / "objects"); }
};

// fake_mirror.py with one fault, serving the site's repository.
class FakeMirror {
 public:
  FakeMirror(const Site& s, const std::string& fault)
      : port_(test::free_port()), log_(s.tmp / ("fake-" + fault + "-" + std::to_string(port_) + ".log")),
        process_({"python3", (fs::path(CFS_SOURCE_DIR) / "tests" / "integration" / "fake_mirror.py").string(), "--root",
                  s.repo.string(), "--port", std::to_string(port_), "--fault", fault},
                 port_, log_) {}
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/"; }
  std::string requests() const { return test::read_file(log_); }
  void kill() { process_.kill(); }

 private:
  int port_;
  fs::path log_;
  test::ServerProcess process_;
};

TEST(Mirror, EmptyCacheMountEqualsSourceAndCachesWhatIsRead) {
  REQUIRE_MIRRORS();
  Site s("101");
  test::Nginx web(s.tmp / "nginx", s.repo);
  FuseMount m(s.image, s.cache.string(), s.mnt, {"remote=" + web.url()});
  ASSERT_TRUE(m.ok());
  // Metadata at once: a whole walk fetches nothing.
  std::size_t entries = 0;
  fs::path first_file;
  for (const auto& e : fs::recursive_directory_iterator(s.mnt)) {
    ++entries;
    if (first_file.empty() && e.symlink_status().type() == fs::file_type::regular && e.file_size() > 64) {
      first_file = e.path();
    }
  }
  EXPECT_GT(entries, 1000u);
  EXPECT_EQ(objects_in(s.cache), std::set<std::string>{});
  ASSERT_FALSE(first_file.empty());
  fs::path in_src = s.src / fs::relative(first_file, s.mnt);
  EXPECT_EQ(slurp(first_file), slurp(in_src));
  EXPECT_EQ(settled(s.cache), std::set<std::string>{object_of(in_src)});
  // Contents on read: all of them, then the cache holds every object, each once.
  EXPECT_GT(test::compare_trees(s.src, s.mnt), 1000);
  EXPECT_EQ(settled(s.cache), s.all_objects());
  EXPECT_EQ(m.stop(), 0);
}

TEST(Mirror, CorruptCopyIsSkippedForAGoodOne) {
  REQUIRE_MIRRORS();
  Site s;
  FakeMirror bad(s, "corrupt");
  test::Nginx good(s.tmp / "nginx", s.repo);
  FuseMount m(s.image, s.cache.string(), s.mnt, {"remote=" + bad.url(), "remote=" + good.url()});
  ASSERT_TRUE(m.ok());
  for (const char* f : {"big", "dir/a", "dir/b", "small"}) EXPECT_EQ(slurp(s.mnt / f), slurp(s.src / f)) << f;
  EXPECT_NE(bad.requests().find("/objects/"), std::string::npos) << "the corrupt mirror was never asked";
  // Only the right bytes were kept, each under its name.
  EXPECT_EQ(settled(s.cache), s.all_objects());
  for (const std::string& o : objects_in(s.cache)) EXPECT_EQ(slurp(s.cache / o), slurp(s.repo / "objects" / o)) << o;
}

TEST(Mirror, NoValidCopyIsEioAndTheRestReadable) {
  REQUIRE_MIRRORS();
  Site s;
  FakeMirror corrupt(s, "corrupt"), failing(s, "error500");
  fs::path log = s.tmp / "fuse.log";
  FuseMount m(s.image, s.cache.string(), s.mnt, {"remote=" + corrupt.url(), "remote=" + failing.url()}, "", {}, log);
  ASSERT_TRUE(m.ok());
  int error = 0;
  slurp(s.mnt / "big", &error);
  EXPECT_EQ(error, EIO);
  EXPECT_EQ(slurp(s.mnt / "small"), "hi\n");
  EXPECT_TRUE(fs::is_directory(s.mnt / "dir"));
  EXPECT_EQ(fs::file_size(s.mnt / "dir" / "a"), 100000u);
  EXPECT_EQ(settled(s.cache), std::set<std::string>{}) << "something unchecked was cached";
  m.stop();
  // One line names the file, the object and what each mirror did.
  std::string text = test::read_file(log);
  std::string object = object_of(s.src / "big");
  std::size_t at = text.find("/big: object /" + object);
  ASSERT_NE(at, std::string::npos) << text;
  std::string line = text.substr(at, text.find('\n', at) - at);
  EXPECT_NE(line.find(corrupt.url().substr(0, corrupt.url().size() - 1) + ": fs-verity digest"), std::string::npos) << line;
  EXPECT_NE(line.find(failing.url().substr(0, failing.url().size() - 1) + ": HTTP 500"), std::string::npos) << line;
}

TEST(Mirror, SlowDownloadBlocksNothingAndAKilledServerLeavesNoPartialObject) {
  REQUIRE_MIRRORS();
  for (bool with_second_mirror : {true, false}) {
    SCOPED_TRACE(with_second_mirror ? "hang, then nginx" : "hang only");
    Site s;
    FakeMirror hang(s, "hang");
    test::Nginx good(s.tmp / "nginx", s.repo);
    std::vector<std::string> options = {"remote=" + hang.url()};
    if (with_second_mirror) options.push_back("remote=" + good.url());
    FuseMount m(s.image, s.cache.string(), s.mnt, options);
    ASSERT_TRUE(m.ok());
    std::atomic<bool> done{false};
    int error = -1;
    std::string got;
    std::thread reader([&] {
      got = slurp(s.mnt / "big", &error);
      done = true;
    });
    std::string object = object_of(s.src / "big");
    ASSERT_TRUE(eventually([&] { return hang.requests().find(object) != std::string::npos; }));
    // The download is stuck half-way: other requests are answered meanwhile.
    struct stat st {};
    EXPECT_EQ(::stat((s.mnt / "dir" / "a").c_str(), &st), 0);
    EXPECT_EQ(std::distance(fs::directory_iterator(s.mnt), fs::directory_iterator()), 3);
    EXPECT_EQ(slurp(s.mnt / "small"), "hi\n");
    EXPECT_FALSE(done) << "the open did not wait for the stuck mirror";
    hang.kill();  // mid-body
    reader.join();
    if (with_second_mirror) {
      EXPECT_EQ(error, 0);
      EXPECT_EQ(got, slurp(s.src / "big"));
      EXPECT_EQ(settled(s.cache), std::set<std::string>{object});
    } else {
      EXPECT_EQ(error, EIO);
      EXPECT_EQ(settled(s.cache), std::set<std::string>{}) << "a partial object was kept";
    }
  }
}

TEST(Mirror, AKilledOpenerLeavesTheMountWorking) {
  REQUIRE_MIRRORS();
  Site s;
  FakeMirror hang(s, "hang");
  FuseMount m(s.image, s.cache.string(), s.mnt, {"remote=" + hang.url()});
  ASSERT_TRUE(m.ok());
  pid_t child = ::fork();
  if (child == 0) {
    int fd = ::open((s.mnt / "big").c_str(), O_RDONLY);
    ::_exit(fd < 0 ? 1 : 0);
  }
  ASSERT_TRUE(eventually([&] { return hang.requests().find(object_of(s.src / "big")) != std::string::npos; }));
  ::kill(child, SIGKILL);  // the kernel interrupts its open
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(slurp(s.mnt / "small"), "hi\n");
  hang.kill();
  EXPECT_EQ(m.stop(), 0);
}

// HTTPS is verified: a mirror whose certificate nobody vouches for serves nothing.
TEST(Mirror, AnHttpsMirrorWithAnUntrustedCertificateIsRefused) {
  REQUIRE_MIRRORS();
  CFS_REQUIRE(run({"openssl", "version"}).status == 0, "openssl is not installed");
  Site s;
  test::Nginx tls(s.tmp / "nginx", s.repo, true);
  fs::path log = s.tmp / "fuse.log";
  FuseMount m(s.image, s.cache.string(), s.mnt, {"remote=" + tls.url()}, "", {}, log);
  ASSERT_TRUE(m.ok());
  int error = 0;
  slurp(s.mnt / "big", &error);
  EXPECT_EQ(error, EIO);
  EXPECT_EQ(settled(s.cache), std::set<std::string>{});
  m.stop();
  EXPECT_NE(test::read_file(log).find("certificate"), std::string::npos) << test::read_file(log);
  EXPECT_EQ(tls.access_log().find("/objects/"), std::string::npos) << "a request went through";
}

TEST(Mirror, RecordThenPrefetch) {
  REQUIRE_MIRRORS();
  Site s;
  test::Nginx web(s.tmp / "nginx", s.repo);
  fs::path record = s.tmp / "record";
  {
    FuseMount m(s.image, s.cache.string(), s.mnt, {"remote=" + web.url(), "record=" + record.string()});
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(slurp(s.mnt / "dir" / "a"), slurp(s.src / "dir" / "a"));
    EXPECT_EQ(slurp(s.mnt / "big"), slurp(s.src / "big"));
    EXPECT_EQ(slurp(s.mnt / "dir" / "a").size(), 100000u);  // opened again: recorded once
  }
  std::string a = object_of(s.src / "dir" / "a"), big = object_of(s.src / "big");
  EXPECT_EQ(test::read_file(record), a + "\n" + big + "\n");
  {
    fs::path cache = s.tmp / "cache2";
    FuseMount m(s.image, cache.string(), s.mnt, {"remote=" + web.url(), "prefetch=" + record.string()});
    ASSERT_TRUE(m.ok());
    // Nothing is opened: the recorded objects arrive by themselves, and only they.
    EXPECT_TRUE(eventually([&] { return objects_in(cache).size() >= 2; }));
    EXPECT_EQ(objects_in(cache), (std::set<std::string>{a, big}));
  }
  {
    fs::path cache = s.tmp / "cache3";
    FuseMount m(s.image, cache.string(), s.mnt, {"remote=" + web.url(), "prefetch=all"});
    ASSERT_TRUE(m.ok());
    EXPECT_TRUE(eventually([&] { return objects_in(cache) == s.all_objects(); }));
  }
}

struct Repos {
  test::TempDir tmp;
  fs::path src = tmp / "src", origin = tmp / "origin", mnt = tmp / "mnt";
  std::string id;
  Repos() {
    fs::create_directories(src / "dir");
    fs::create_directories(mnt);
    test::write_file(src / "big", test::patterned(300000));
    test::write_file(src / "dir" / "a", std::string(100000, 'a'));
    test::write_file(src / "small", "hi\n");
    EXPECT_EQ(test::cfsctl(origin, {"init", "--insecure"}).status, 0);
    auto r = test::cfsctl(origin, {"create-image", "--no-propagate-usr-to-root", src.string(), "img"});
    EXPECT_EQ(r.status, 0) << r.err;
    id = r.out.substr(r.out.find(':') + 1, 128);
  }
  fs::path fresh(const std::string& name) {
    fs::path repo = tmp / name;
    EXPECT_EQ(test::cfsctl(repo, {"init", "--insecure"}).status, 0);
    return repo;
  }
};

TEST(Mirror, CfsctlFetchIsCompleteCheckedAndResumable) {
  REQUIRE_MIRRORS();
  Repos r;
  test::Nginx web(r.tmp / "nginx", r.origin);
  fs::path repo = r.fresh("copy");
  auto f = test::cfsctl(repo, {"fetch", web.url(), r.id});
  ASSERT_EQ(f.status, 0) << f.err;
  EXPECT_EQ(f.out.substr(0, f.out.find('\n')), "verity " + r.id);
  EXPECT_NE(f.out.find("objects 2 (2 fetched"), std::string::npos) << f.out;
  EXPECT_EQ(objects_in(repo / "objects"), objects_in(r.origin / "objects"));
  EXPECT_EQ(test::cfsctl(repo, {"fsck"}).status, 0);
  EXPECT_TRUE(fs::is_symlink(repo / "images" / r.id));
  // Resumable: what is there is not fetched again.
  std::string a = object_of(r.src / "dir" / "a", HashAlgorithm::kSha512);
  ASSERT_TRUE(fs::remove(repo / "objects" / a));
  f = test::cfsctl(repo, {"fetch", web.url(), "img"});
  ASSERT_EQ(f.status, 0) << f.err;
  EXPECT_NE(f.out.find("objects 2 (1 fetched"), std::string::npos) << f.out;
  EXPECT_EQ(fs::read_symlink(repo / "images" / "refs" / "img"), fs::path("..") / r.id);
  EXPECT_EQ(test::cfsctl(repo, {"fsck"}).status, 0);

  // A corrupt mirror: nothing linked, nothing wrong stored.
  fs::path other = r.fresh("other");
  Site site;  // only for FakeMirror's scratch directory
  fs::remove_all(site.repo);
  fs::create_directory_symlink(r.origin, site.repo);
  FakeMirror bad(site, "corrupt");
  f = test::cfsctl(other, {"fetch", bad.url(), r.id});
  EXPECT_EQ(f.status, 1);
  EXPECT_NE(f.err.find("objects could not be fetched"), std::string::npos) << f.err;
  EXPECT_EQ(std::count(f.err.begin(), f.err.end(), '\n'), 1) << f.err;
  EXPECT_FALSE(fs::exists(other / "images" / r.id));
  for (const std::string& o : objects_in(other / "objects")) EXPECT_EQ(slurp(other / "objects" / o), slurp(r.origin / "objects" / o));
  EXPECT_EQ(test::cfsctl(other, {"fsck"}).status, 0);
  // A digest no mirror has.
  f = test::cfsctl(other, {"fetch", web.url(), std::string(128, 'e')});
  EXPECT_EQ(f.status, 1);
  EXPECT_NE(f.err.find("HTTP 404"), std::string::npos) << f.err;
}

// An image the repository has is not downloaded again: `fetch URL NAME` with NAME known
// locally (or its ID), and `mount --remote`, ask the mirror only for the objects that are
// missing (here: one, then none).
TEST(Mirror, CfsctlFetchOfAStoredImageDownloadsNothingAgain) {
  REQUIRE_MIRRORS();
  Repos r;
  Site site;  // only for FakeMirror's scratch directory
  fs::remove_all(site.repo);
  fs::create_directory_symlink(r.origin, site.repo);
  FakeMirror web(site, "none");
  fs::path repo = r.fresh("copy");
  ASSERT_EQ(test::cfsctl(repo, {"fetch", web.url(), "img"}).status, 0);
  std::string a = object_of(r.src / "dir" / "a", HashAlgorithm::kSha512);
  ASSERT_TRUE(fs::remove(repo / "objects" / a));
  auto requests_of = [&](const std::vector<std::string>& args) {
    std::size_t before = web.requests().size();
    auto f = test::cfsctl(repo, args);
    EXPECT_EQ(f.status, 0) << f.err;
    return web.requests().substr(before);
  };
  EXPECT_EQ(requests_of({"fetch", web.url(), "img"}), "/objects/" + a + "\n");
  EXPECT_EQ(requests_of({"fetch", web.url(), "img"}), "");
  EXPECT_EQ(requests_of({"fetch", web.url(), r.id}), "");
  EXPECT_EQ(requests_of({"mount", "--remote=" + web.url(), "img", r.mnt.string()}), "");
  ::umount2(r.mnt.c_str(), MNT_DETACH);
  EXPECT_TRUE(eventually([&] { return !test::is_mounted(r.mnt); }));
}

TEST(Mirror, CfsctlMountRemote) {
  REQUIRE_MIRRORS();
  Repos r;
  test::Nginx web(r.tmp / "nginx", r.origin);
  fs::path repo = r.fresh("empty");
  auto m = test::cfsctl(repo, {"mount", "--remote=" + web.url(), r.id, r.mnt.string()});
  ASSERT_EQ(m.status, 0) << m.err;
  EXPECT_TRUE(test::is_mounted(r.mnt));
  EXPECT_EQ(slurp(r.mnt / "dir" / "a"), slurp(r.src / "dir" / "a"));
  EXPECT_EQ(slurp(r.mnt / "small"), "hi\n");
  EXPECT_TRUE(fs::exists(repo / "images" / r.id));
  EXPECT_EQ(settled(repo / "objects").size(), 2u) << "the image and dir/a";
  ::umount2(r.mnt.c_str(), MNT_DETACH);
  EXPECT_TRUE(eventually([&] { return !test::is_mounted(r.mnt); }));
  // A name the repository does not know is not asked of a mirror.
  m = test::cfsctl(r.fresh("empty2"), {"mount", "--remote=" + web.url(), "img", r.mnt.string()});
  EXPECT_EQ(m.status, 1);
  EXPECT_NE(m.err.find("named by its digest"), std::string::npos) << m.err;
}

// Makes the site's repo/ a cfsctl repository (SHA-512) of its src/, with the Merkle trees of
// the objects of 1 MiB and more (`merkle` says how many were written); returns its image.
fs::path streamable_image(const Site& s, std::string* merkle = nullptr) {
  fs::remove_all(s.repo);
  EXPECT_EQ(test::cfsctl(s.repo, {"init", "--insecure"}).status, 0);
  auto c = test::cfsctl(s.repo, {"create-image", "--no-propagate-usr-to-root", s.src.string(), "img"});
  EXPECT_EQ(c.status, 0) << c.err;
  auto m = test::cfsctl(s.repo, {"merkle", "--min-size", "1048576"});
  EXPECT_EQ(m.status, 0) << m.err;
  if (merkle) *merkle = m.out;
  return s.repo / "images" / c.out.substr(c.out.find(':') + 1, 128);
}

// Objects of 8 MiB and more, where the mirror has their Merkle tree (cfsctl merkle), are read
// while they arrive: ranges fetched on demand, each block checked, the whole named at the end.
TEST(Mirror, LargeObjectsAreServedWhileTheyArrive) {
  REQUIRE_MIRRORS();
  Site s;  // its repo/ becomes a cfsctl repository with one 10 MiB file
  std::string big = test::patterned(10 << 20);
  test::write_file(s.src / "huge", big);
  std::string merkle;
  fs::path image = streamable_image(s, &merkle);
  EXPECT_EQ(merkle, "merkle 1 written, 0 present\n");
  EXPECT_EQ(test::cfsctl(s.repo, {"merkle"}).out, "merkle 0 written, 1 present\n");
  EXPECT_EQ(test::cfsctl(s.repo, {"fsck"}).status, 0) << "merkle/ upsets fsck";
  std::string object = object_of(s.src / "huge", HashAlgorithm::kSha512);
  EXPECT_EQ(fs::file_size(s.repo / "merkle" / object), (10u << 20) / 4096 * 64);
  {
    FakeMirror slow(s, "slow");  // 2 MiB/s: the whole object takes 5 s
    FuseMount mount(image, s.cache.string(), s.mnt, {"remote=" + slow.url()});
    ASSERT_TRUE(mount.ok());
    UniqueFd fd(::open((s.mnt / "huge").c_str(), O_RDONLY | O_CLOEXEC));
    ASSERT_TRUE(fd);
    std::string tail(4096, '\0'), head(65536, '\0');
    EXPECT_EQ(::pread(fd.get(), tail.data(), tail.size(), 9 << 20), 4096);
    EXPECT_EQ(::pread(fd.get(), head.data(), head.size(), 0), 65536);
    EXPECT_EQ(objects_in(s.cache), std::set<std::string>{}) << "the whole object arrived before the first read";
    EXPECT_EQ(tail, big.substr(9 << 20, 4096));
    EXPECT_EQ(head, big.substr(0, 65536));
    EXPECT_NE(slow.requests().find("/merkle/" + object), std::string::npos);
    EXPECT_EQ(slurp(s.mnt / "huge"), big);
    EXPECT_TRUE(eventually([&] { return objects_in(s.cache) == std::set<std::string>{object}; }));
    EXPECT_EQ(slurp(s.cache / object), big);
  }
  {
    // A mirror serving a wrong block: the other's blocks are served, and cached.
    fs::path cache = s.tmp / "cache2";
    FakeMirror bad(s, "corrupt");
    test::Nginx good(s.tmp / "nginx", s.repo);
    FuseMount mount(image, cache.string(), s.mnt, {"remote=" + bad.url(), "remote=" + good.url()});
    ASSERT_TRUE(mount.ok());
    EXPECT_EQ(slurp(s.mnt / "huge"), big);
    EXPECT_NE(bad.requests().find("/objects/" + object), std::string::npos);
    EXPECT_TRUE(eventually([&] { return objects_in(cache).size() == 1; }));
    EXPECT_EQ(slurp(cache / object), big);
  }
  // gc takes a tree with its object.
  ASSERT_EQ(test::cfsctl(s.repo, {"image-objects", "img"}).status, 0);
  fs::remove(s.repo / "images" / "refs" / "img");
  EXPECT_EQ(test::cfsctl(s.repo, {"gc"}).status, 0);
  EXPECT_FALSE(fs::exists(s.repo / "merkle" / object));
}

// An image naming a huge size for an object whose mirror has its Merkle tree (block hashes of
// 256 GiB): no tree of that size is asked for, the object comes whole, and the mount goes on.
TEST(Mirror, AHugeSizeInTheImageDoesNotBringTheMountDown) {
  REQUIRE_MIRRORS();
  Site s;
  std::string big = test::patterned(9 << 20);
  test::write_file(s.src / "huge", big);
  fs::path image = streamable_image(s);
  auto d = run({tool("composefs-info").string(), "dump", image.string()});
  ASSERT_EQ(d.status, 0) << d.err;
  std::string line = "/huge " + std::to_string(big.size()) + " ";
  std::size_t at = d.out.find(line);
  ASSERT_NE(at, std::string::npos) << d.out;
  test::write_file(s.tmp / "lie.dump", d.out.replace(at, line.size(), "/huge 17592186044416 "));  // 16 TiB
  auto w = run({tool("mkcomposefs").string(), "--from-file", (s.tmp / "lie.dump").string(), (s.tmp / "lie.cfs").string()});
  ASSERT_EQ(w.status, 0) << w.err;
  test::Nginx web(s.tmp / "nginx", s.repo);
  FuseMount m(s.tmp / "lie.cfs", s.cache.string(), s.mnt, {"remote=" + web.url()});
  ASSERT_TRUE(m.ok());
  UniqueFd fd(::open((s.mnt / "huge").c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(fd) << std::strerror(errno);
  std::string head(65536, '\0');
  EXPECT_EQ(::pread(fd.get(), head.data(), head.size(), 0), 65536);
  EXPECT_EQ(head, big.substr(0, head.size()));
  EXPECT_EQ(web.access_log().find("/merkle/"), std::string::npos) << "a 256 GiB tree was asked for";
  fd.reset();
  EXPECT_EQ(slurp(s.mnt / "small"), "hi\n");
  EXPECT_EQ(m.stop(), 0);
}

// A full cache disk: the open fails with EIO and a log line that blames the disk, not the
// mirror; a stream it stopped lets go of its partial file, so that the next fetch has room.
TEST(Mirror, AFullCacheIsBlamedAndAStoppedStreamFreesItsSpace) {
  REQUIRE_MIRRORS();
  Site s;
  test::write_file(s.src / "huge", test::patterned(10 << 20));  // streamed
  std::string medium = test::patterned((3 << 20) + 1);           // fetched whole
  test::write_file(s.src / "medium", medium);
  fs::path image = streamable_image(s);
  test::Tmpfs cache(s.cache, "12m");
  ASSERT_TRUE(cache.ok());
  test::write_file(s.cache / "filler", std::string(4 << 20, 'f'));  // 8 MiB left
  test::Nginx web(s.tmp / "nginx", s.repo);
  fs::path log = s.tmp / "fuse.log";
  {
    FuseMount m(image, s.cache.string(), s.mnt, {"remote=" + web.url()}, "", {}, log);
    ASSERT_TRUE(m.ok());
    int error = 0;
    test::write_file(s.cache / "filler2", std::string(8 << 20, 'f'));  // nothing left
    slurp(s.mnt / "big", &error);
    EXPECT_EQ(error, EIO);
    fs::remove(s.cache / "filler2");
    slurp(s.mnt / "huge", &error);
    EXPECT_EQ(error, EIO);
    // Once huge is closed nothing holds its blocks: medium fits.
    EXPECT_TRUE(eventually([&] { return slurp(s.mnt / "medium", &error) == medium && error == 0; }, 10));
    EXPECT_EQ(m.stop(), 0);
  }
  std::string text = test::read_file(log);
  for (const std::string file : {"/big", "/huge"}) {
    SCOPED_TRACE(file);
    std::size_t at = text.find(file + ": object /");
    ASSERT_NE(at, std::string::npos) << text;
    std::string line = text.substr(at, text.find('\n', at) - at);
    EXPECT_NE(line.find(": writing to the cache"), std::string::npos) << line;
    EXPECT_NE(line.find("No space left on device"), std::string::npos) << line;
    EXPECT_EQ(line.find("no mirror has"), std::string::npos) << "the mirror was blamed: " << line;
  }
}

TEST(Mirror, BadOptionsAreRefused) {
  test::TempDir tmp;
  fs::create_directories(tmp / "src");
  ASSERT_EQ(run({tool("mkcomposefs").string(), (tmp / "src").string(), (tmp / "image").string()}).status, 0);
  auto fuse = [&](const std::string& options) {
    return run({tool("composefs-fuse").string(), "-f", "-o", "source=" + (tmp / "image").string() + ",basedir=" +
                                                                  (tmp / "cache").string() + "," + options,
                (tmp / "mnt").string()});
  };
  for (const auto& [options, message] : std::vector<std::pair<std::string, std::string>>{
           {"remote=ftp://x/", "only http:// and https://"},
           {"prefetch=all", "prefetch needs a mirror"},
           {"remote=http://127.0.0.1:1/,noopen", "noopen cannot be combined with remote"}}) {
    auto r = fuse(options);
    EXPECT_EQ(r.status, 1) << options;
    EXPECT_NE(r.err.find(message), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  auto r = test::cfsctl(tmp / "repo", {"fetch", "http://127.0.0.1:1/"});
  EXPECT_EQ(r.status, 2) << r.err;
  r = test::cfsctl(tmp / "repo", {"mount", "--fuse", "no", "--remote=http://127.0.0.1:1/", "x", tmp.path().string()});
  EXPECT_EQ(r.status, 2) << r.err;
}

}  // namespace
}  // namespace cfs
