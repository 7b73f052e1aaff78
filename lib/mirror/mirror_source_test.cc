// MirrorSource and StreamingObject against tests/integration/fake_mirror.py in process (so the
// sanitizer build sees their threads): whole objects checked and cached, shared downloads,
// wrong bytes refused, large objects read in parallel while they arrive.
#include "mirror/mirror_source.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <future>
#include <thread>

#include "base/error.h"
#include "mirror/prefetch.h"
#include "mirror/recorder.h"
#include "support/fs_compare.h"
#include "support/server_process.h"
#include "support/support.h"
#include "verity/fsverity.h"

namespace cfs::mirror {
namespace {

namespace fs = std::filesystem;

// A repository-shaped directory with objects (and, for large ones, merkle/ trees) served by
// fake_mirror.py, once for each fault asked for.
struct Served {
  test::TempDir tmp;
  fs::path repo = tmp / "repo";
  std::vector<test::ServerProcess> servers;

  Served() { fs::create_directories(repo / "objects"); }
  store::ObjectRef add(const std::string& bytes, bool with_tree, std::string& path_out) {
    store::ObjectStore store((repo / "objects").string());
    test::write_file(tmp / "bytes", bytes);
    UniqueFd fd(::open((tmp / "bytes").c_str(), O_RDONLY | O_CLOEXEC));
    Digest d = store.ingest(fd.get(), bytes.size()).digest;
    store.flush();
    path_out = object_path(d);
    if (with_tree) {
      verity::Hasher h;
      h.start_block_hashes();
      h.update(std::as_bytes(std::span(bytes)));
      std::vector<std::uint8_t> tree = h.finish_block_hashes();
      fs::create_directories(repo / "merkle" / path_out.substr(0, 2));
      test::write_file(repo / "merkle" / path_out, std::string(tree.begin(), tree.end()));
    }
    return {path_out, d, bytes.size()};
  }
  // A server with `fault`: its URL.
  std::string serve(const std::string& fault) {
    int port = test::free_port();
    servers.emplace_back(std::vector<std::string>{"python3", (fs::path(CFS_SOURCE_DIR) / "tests" / "integration" / "fake_mirror.py").string(),
                                                  "--root", repo.string(), "--port", std::to_string(port), "--fault", fault},
                         port, tmp / ("server-" + std::to_string(port) + ".log"));
    return "http://127.0.0.1:" + std::to_string(port);
  }
};

std::string read_whole(int fd) {
  std::string out;
  char buf[65536];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
  return out;
}

#define REQUIRE_PYTHON() CFS_REQUIRE(test::run({"python3", "-c", "pass"}).status == 0, "python3 is not installed")

TEST(MirrorSource, FetchesChecksAndCachesSharingDownloads) {
  REQUIRE_PYTHON();
  Served s;
  std::string path;
  std::string bytes = test::read_file(fs::path(CFS_SOURCE_DIR) / "README.md");
  store::ObjectRef ref = s.add(bytes, false, path);
  Mirrors mirrors({s.serve("none")});
  MirrorSource source({(s.tmp / "cache").string()}, mirrors);
  EXPECT_TRUE(source.may_wait(ref));
  EXPECT_EQ(source.resolve(ref).where, store::ResolvedObject::Where::kRemote);
  std::vector<std::thread> openers;
  std::atomic<int> right{0};
  for (int i = 0; i < 8; ++i) {
    openers.emplace_back([&] {
      store::OpenedObject o = source.open(ref);
      if (read_whole(o.fd.get()) == bytes) ++right;
    });
  }
  for (auto& t : openers) t.join();
  EXPECT_EQ(right, 8);
  EXPECT_FALSE(source.may_wait(ref));
  store::ResolvedObject here = source.resolve(ref);
  EXPECT_EQ(here.where, store::ResolvedObject::Where::kLocal);
  EXPECT_EQ(read_whole(here.local.fd.get()), bytes) << "opened by the lookup";
  EXPECT_EQ(mirrors.stats().objects, 1u) << "concurrent opens of one object share one download";
  EXPECT_EQ(source.open_partial(ref), nullptr) << "small and local";
  for (int i = 0; i < 100 && !fs::exists(s.tmp / "cache" / path); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // named a moment later
  }
  EXPECT_EQ(test::read_file(s.tmp / "cache" / path), bytes);
}

TEST(MirrorSource, WrongBytesAreNeitherServedNorCached) {
  REQUIRE_PYTHON();
  Served s;
  std::string path;
  store::ObjectRef ref = s.add(std::string(100000, 'x'), false, path);
  Mirrors mirrors({s.serve("corrupt")});
  MirrorSource source({(s.tmp / "cache").string()}, mirrors);
  try {
    source.open(ref);
    ADD_FAILURE() << "a corrupt copy was served";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("differs from the expected"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(source.may_wait(ref));
  for (const auto& e : fs::recursive_directory_iterator(s.tmp / "cache")) EXPECT_TRUE(e.is_directory()) << e.path();
  // A wrong digest in the image is refused before any download.
  store::ObjectRef other = ref;
  Digest d = *ref.digest;
  d[5] ^= 1;
  other.digest = d;
  EXPECT_THROW(source.open(other), Error);
}

// 3 bytes a second is never a stall, but 100000 bytes would take 9 hours: the transfer is
// slower than the minimum rate (net's http.min_bytes_per_second, 1024 by default) over
// stall_seconds, is cut off, and the next mirror serves.
TEST(MirrorSource, AMirrorThatDripsIsCutOffForTheNext) {
  REQUIRE_PYTHON();
  Served s;
  std::string path;
  std::string bytes = test::patterned(100000);
  store::ObjectRef ref = s.add(bytes, false, path);
  MirrorOptions options;
  options.http.stall_seconds = 1;
  Mirrors mirrors({s.serve("drip"), s.serve("none")}, options);
  MirrorSource source({(s.tmp / "cache").string()}, mirrors);
  auto opened = std::async(std::launch::async, [&] { return read_whole(source.open(ref).fd.get()); });
  if (opened.wait_for(std::chrono::seconds(20)) != std::future_status::ready) {
    mirrors.cancel();
    ADD_FAILURE() << "the dripping mirror held the download";
  }
  try {
    EXPECT_EQ(opened.get(), bytes);
  } catch (const Error& e) {
    ADD_FAILURE() << e.what();
  }
  EXPECT_EQ(mirrors.stats().failures, 1u);
}

TEST(MirrorSource, LargeObjectsAreReadWhileTheyArrive) {
  REQUIRE_PYTHON();
  Served s;
  std::string path;
  std::string bytes = test::patterned((9 << 20) + 1234);  // a partial last block
  store::ObjectRef ref = s.add(bytes, true, path);
  Mirrors mirrors({s.serve("none")});
  MirrorSource source({(s.tmp / "cache").string()}, mirrors);
  std::shared_ptr<store::PartialObject> partial = source.open_partial(ref);
  ASSERT_NE(partial, nullptr);
  EXPECT_EQ(source.open_partial(ref), partial) << "concurrent opens share it";
  std::vector<std::thread> readers;
  std::atomic<int> right{0};
  for (int i = 0; i < 6; ++i) {
    readers.emplace_back([&, i] {
      std::uint64_t offset = static_cast<std::uint64_t>(i) * (1600 << 10);
      std::vector<std::byte> buf(300000);
      std::size_t n = partial->read(offset, buf);
      std::size_t want = std::min<std::size_t>(buf.size(), bytes.size() - offset);
      if (n == want && std::memcmp(buf.data(), bytes.data() + offset, n) == 0) ++right;
    });
  }
  for (auto& t : readers) t.join();
  EXPECT_EQ(right, 6);
  std::vector<std::byte> end(10);
  EXPECT_EQ(partial->read(bytes.size() - 4, end), 4u);
  EXPECT_EQ(partial->read(bytes.size(), end), 0u);
  // The background completes it and names it.
  for (int i = 0; i < 400 && source.may_wait(ref); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(source.may_wait(ref));
  EXPECT_EQ(test::read_file(s.tmp / "cache" / path), bytes);
  EXPECT_TRUE(partial->ready(0, bytes.size()));
}

TEST(MirrorSource, AnImagesHugeOrWrongSizeSizesNoTreeBuffer) {
  REQUIRE_PYTHON();
  Served s;
  std::string path;
  store::ObjectRef ref = s.add(test::patterned(9 << 20), true, path);
  Mirrors mirrors({s.serve("none")});
  MirrorSource source({(s.tmp / "cache").string()}, mirrors);
  store::ObjectRef lie = ref;
  lie.size = std::uint64_t{1} << 60;  // block hashes of 2^53 bytes
  EXPECT_EQ(source.open_partial(lie), nullptr) << "beyond any tree held in memory: fetched whole";
  lie.size = ref.size + (64 << 20);
  EXPECT_EQ(source.open_partial(lie), nullptr) << "the mirror's tree has another length";
  EXPECT_EQ(mirrors.stats().bytes, 0u) << "the tree's length is checked before a byte is read";
  EXPECT_NE(source.open_partial(ref), nullptr) << "the right size streams";
}

TEST(MirrorSource, ARecordThatCannotBeWrittenFailsNoOpen) {
  Served s;  // not served: its objects are local
  std::string a, b;
  store::ObjectRef first = s.add("first", false, a), second = s.add("second", false, b);
  store::DirectorySource local({(s.repo / "objects").string()});
  std::vector<std::string> logged;
  RecordingSource recording(local, "/dev/full", [&](const std::string& line) { logged.push_back(line); });
  for (const store::ObjectRef& ref : {first, second, first}) {
    EXPECT_EQ(read_whole(recording.open(ref).fd.get()), ref.path == a ? "first" : "second");
  }
  EXPECT_EQ(recording.open_partial(second), nullptr);
  ASSERT_EQ(logged.size(), 1u) << "logged once";
  EXPECT_NE(logged[0].find("record /dev/full: No space left on device"), std::string::npos) << logged[0];
}

TEST(MirrorSource, RecordLinesSelectTheImagesObjects) {
  std::vector<WantedObject> all = {{"aa/1", std::nullopt, 10}, {"bb/2", std::nullopt, 20}, {"cc/3", std::nullopt, 30}};
  std::vector<WantedObject> got = recorded_objects(all, "cc/3\nzz/9\n\naa/1\ncc/3\n");
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].path, "cc/3");
  EXPECT_EQ(got[1].path, "aa/1");
  EXPECT_TRUE(recorded_objects(all, "").empty());
}

TEST(MirrorSource, ObjectsAreCheckedByTheirImageDigestOrTheirName) {
  Digest d;
  d[0] = 0xab;
  std::string path = object_path(d);
  EXPECT_EQ(digest_to_check({path, std::nullopt, 1}), d);
  EXPECT_EQ(digest_to_check({path, d, 1}), d);
  Digest other = d;
  other[1] = 1;
  EXPECT_THROW(digest_to_check({path, other, 1}), Error);
  EXPECT_THROW(digest_to_check({"not/a/digest", std::nullopt, 1}), Error);
  EXPECT_THROW(digest_to_check({"somewhere/else", d, 1}), Error);
}

}  // namespace
}  // namespace cfs::mirror
