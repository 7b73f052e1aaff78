// ObjectStore: what it names objects after, what it refuses, and the objects it serves.
#include "store/store.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <thread>

#include "base/error.h"
#include "base/file_io.h"
#include "support/support.h"
#include "verity/fsverity.h"

namespace cfs::store {
namespace {

namespace fs = std::filesystem;

Digest digest_of(const std::string& s) { return verity::digest_of(std::as_bytes(std::span(s))); }

// A stream handing out `data` in pieces of at most `piece` bytes, as a pipe would.
ObjectStore::ReadSome stream_of(const std::string& data, std::size_t piece) {
  auto at = std::make_shared<std::size_t>(0);
  return [&data, piece, at](std::span<std::byte> buf) {
    std::size_t n = std::min({buf.size(), piece, data.size() - *at});
    std::memcpy(buf.data(), data.data() + *at, n);
    *at += n;
    return n;
  };
}

TEST(ObjectStore, StreamIsStoredUnderItsDigestWithHoles) {
  test::TempDir tmp;
  ObjectStore store((tmp / "store").string());
  std::string data = "head" + std::string(3 << 20, '\0') + "middle" + std::string(5 << 20, '\0') + "tail";
  ObjectStore::Ingested got = store.ingest_stream(stream_of(data, 70000));
  store.flush();
  EXPECT_TRUE(got.added);
  EXPECT_EQ(got.digest, digest_of(data));
  fs::path object = tmp / "store" / object_path(got.digest);
  EXPECT_EQ(test::read_file(object), data);
  struct stat st {};
  ASSERT_EQ(::stat(object.c_str(), &st), 0);
  EXPECT_LT(st.st_blocks * 512, 1 << 20) << "zero blocks became holes";
  EXPECT_FALSE(store.ingest_stream(stream_of(data, 4096)).added) << "stored already";
  EXPECT_EQ(store.ingest_stream(stream_of("", 1)).digest, digest_of("")) << "an empty stream";
}

// Full batches are named on a thread of their own while the next fills: an object just stored
// is always either waiting (open_pending serves it, as a mirror needs) or named, from several
// storing threads at once; after flush() every one is named with its bytes.
TEST(ObjectStore, ObjectsStoredWhileBatchesAreNamed) {
  test::TempDir tmp;
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
  rlimit low = saved;
  low.rlim_cur = std::min<rlim_t>(saved.rlim_cur, 64);  // a budget of 16: batches of 8
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
  ObjectStore store((tmp / "store").string());
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &saved), 0);
  ASSERT_EQ(store.fd_budget(), 16U);
  std::vector<std::string> data(200);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = "object " + std::to_string(i) + std::string(i * 37, 'x');
  std::atomic<int> unreachable{0};
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (std::size_t i = t; i < data.size(); i += 4) {
        ObjectStore::Ingested got = store.ingest_stream(stream_of(data[i], 1000));
        if (!store.open_pending(got.digest) && !store.contains(got.digest)) ++unreachable;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  store.flush();
  EXPECT_EQ(unreachable, 0);
  for (const std::string& d : data) EXPECT_EQ(test::read_file(tmp / "store" / object_path(digest_of(d))), d);
}

TEST(ObjectStore, FailingStreamStoresNothing) {
  test::TempDir tmp;
  ObjectStore store((tmp / "store").string());
  int calls = 0;
  EXPECT_THROW(store.ingest_stream([&](std::span<std::byte> buf) -> std::size_t {
                 if (++calls > 3) throw Error(EIO, "broken stream");
                 std::memset(buf.data(), 'x', 100);
                 return 100;
               }),
               Error);
  store.flush();
  EXPECT_TRUE(fs::is_empty(tmp / "store"));
}

TEST(ObjectStore, ServesItsObjectsAsASource) {
  test::TempDir tmp;
  ObjectStore store((tmp / "store").string());
  std::string data = "an object";
  Digest d = store.ingest_stream(stream_of(data, 3)).digest;
  store.flush();
  std::string path = object_path(d);
  OpenedObject o = store.open({path, d, data.size()});
  EXPECT_FALSE(o.verified) << "the caller checks it";
  char buf[32] = {};
  EXPECT_EQ(::pread(o.fd.get(), buf, sizeof buf, 0), static_cast<ssize_t>(data.size()));
  EXPECT_EQ(std::string(buf), data);
  EXPECT_THROW(store.open({path, d, data.size() + 1}), Error) << "wrong size";
  try {
    store.open({"00/missing", std::nullopt, 1});
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ENOENT);
  }
  EXPECT_THROW(store.open({"../x", std::nullopt, 1}), Error);
}

// A SHA-512 store (composefs-rs's default) names objects "xx/<126 hex>" by their SHA-512
// fs-verity digest, from files and from streams alike.
TEST(ObjectStore, Sha512StoreNamesObjectsBySha512) {
  test::TempDir tmp;
  ObjectStore store((tmp / "store").string(), HashAlgorithm::kSha512);
  const std::string data = std::string(300000, 'q') + "tail";
  test::write_file(tmp / "file", data);
  UniqueFd fd = open_read(tmp / "file");
  Digest d = store.ingest(fd.get(), data.size()).digest;
  store.flush();
  EXPECT_EQ(d, verity::digest_of(std::as_bytes(std::span(data)), HashAlgorithm::kSha512));
  std::string hex = to_hex(d);
  ASSERT_EQ(hex.size(), 128u);
  EXPECT_EQ(test::read_file(tmp / "store" / hex.substr(0, 2) / hex.substr(2)), data);
  EXPECT_TRUE(store.contains(d));
  EXPECT_FALSE(store.ingest_stream(stream_of(data, 7)).added) << "the same object from a stream";
}

// A store whose xx/ directory is a symlink is refused, not written through.
TEST(ObjectStore, SymlinkedObjectDirectoryIsRefused) {
  test::TempDir tmp;
  const std::string data(10000, 'z');
  Digest d = digest_of(data);
  fs::create_directories(tmp / "store");
  fs::create_directories(tmp / "elsewhere");
  fs::create_directory_symlink(tmp / "elsewhere", tmp / "store" / to_hex(d).substr(0, 2));
  test::write_file(tmp / "file", data);
  UniqueFd fd = open_read(tmp / "file");
  ObjectStore store((tmp / "store").string());
  try {
    store.ingest(fd.get(), data.size());
    store.flush();
    ADD_FAILURE() << "an object was written through a symlinked directory";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("symlink"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(fs::is_empty(tmp / "elsewhere"));
}

// A file shorter than the size the scan saw: an error, no object.
TEST(ObjectStore, ShrunkSourceIsAnError) {
  test::TempDir tmp;
  test::write_file(tmp / "file", std::string(5000, 'q'));
  UniqueFd fd = open_read(tmp / "file");
  ObjectStore store((tmp / "store").string());
  EXPECT_THROW(store.ingest(fd.get(), 9000), Error);
  store.flush();
  EXPECT_TRUE(fs::is_empty(tmp / "store"));
}

}  // namespace
}  // namespace cfs::store
