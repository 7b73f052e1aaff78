// ObjectStore::take_file: reflink, else hard link, else copy; what it refuses to link; the
// bytes handed to the observer are those stored.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "base/error.h"
#include "store/store.h"
#include "support/support.h"
#include "verity/fsverity.h"

namespace cfs::store {
namespace {

namespace fs = std::filesystem;

struct Taken {
  ObjectStore::Taken how;
  Digest digest;
  std::string observed;
};

Taken take(ObjectStore& store, const fs::path& file, bool zero_copy) {
  UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) throw Error(errno, file.string());
  Taken t{};
  t.how = store.take_file(
      fd.get(), fs::file_size(file), zero_copy,
      [&](std::span<const std::byte> b) {
        t.observed.append(reinterpret_cast<const char*>(b.data()), b.size());
      },
      &t.digest);
  store.flush();
  return t;
}

ino_t inode(const fs::path& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 ? st.st_ino : 0;
}

fs::path object_file(const fs::path& store, const Digest& d) { return store / object_path(d); }

TEST(TakeFile, HardLinksOnTheSameFilesystemAndObservesEveryByte) {
  CFS_REQUIRE(::geteuid() == 0, "linkat(AT_EMPTY_PATH) needs CAP_DAC_READ_SEARCH");
  test::TempDir tmp;
  std::string data = std::string(100000, 'x') + "end";
  test::write_file(tmp / "src", data);
  ObjectStore store((tmp / "store").string());
  Taken t = take(store, tmp / "src", false);
  EXPECT_EQ(t.observed, data);
  EXPECT_EQ(t.digest, verity::digest_of(std::as_bytes(std::span(data))));
  // ext4 cannot reflink (the test's temporary directory): a hard link, then present.
  if (t.how == ObjectStore::Taken::kHardLinked) {
    EXPECT_EQ(inode(object_file(tmp / "store", t.digest)), inode(tmp / "src"));
  } else {
    EXPECT_EQ(t.how, ObjectStore::Taken::kReflinked);
    EXPECT_NE(inode(object_file(tmp / "store", t.digest)), inode(tmp / "src"));
  }
  Taken again = take(store, tmp / "src", true);
  EXPECT_EQ(again.how, ObjectStore::Taken::kPresent);
  EXPECT_EQ(again.observed, data) << "the bytes are observed even when the object is there";
}

TEST(TakeFile, NeverLinksASetuidFile) {
  CFS_REQUIRE(::geteuid() == 0, "linkat(AT_EMPTY_PATH) needs CAP_DAC_READ_SEARCH");
  test::TempDir tmp;
  test::write_file(tmp / "suid", std::string(5000, 's'));
  ::chmod((tmp / "suid").c_str(), 04755);
  ObjectStore store((tmp / "store").string());
  Taken t = take(store, tmp / "suid", false);
  EXPECT_NE(t.how, ObjectStore::Taken::kHardLinked);
  EXPECT_NE(inode(object_file(tmp / "store", t.digest)), inode(tmp / "suid"));
  struct stat st {};
  ASSERT_EQ(::stat(object_file(tmp / "store", t.digest).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644U);
}

TEST(TakeFile, ZeroCopyRefusesAnotherFilesystemAndAutoCopies) {
  CFS_REQUIRE(::geteuid() == 0, "mounting a tmpfs needs root");
  test::TempDir tmp;
  test::Tmpfs shm(tmp / "shm", "16m");
  ASSERT_TRUE(shm.ok());
  std::string data(20000, 'z');
  test::write_file(tmp / "src", data);
  ObjectStore store((tmp / "shm" / "store").string());
  try {
    take(store, tmp / "src", true);
    ADD_FAILURE() << "zerocopy copied";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), EXDEV);
    EXPECT_NE(std::string(e.what()).find("another filesystem"), std::string::npos) << e.what();
  }
  Taken t = take(store, tmp / "src", false);
  EXPECT_EQ(t.how, ObjectStore::Taken::kCopied);
  EXPECT_EQ(t.observed, data);
  EXPECT_EQ(test::read_file(object_file(tmp / "shm" / "store", t.digest)), data);
}

TEST(TakeFile, VerityRequiredWhereTheFilesystemHasNoneIsNoLink) {
  CFS_REQUIRE(::geteuid() == 0, "linkat(AT_EMPTY_PATH) needs CAP_DAC_READ_SEARCH");
  test::TempDir tmp;
  test::Tmpfs shm(tmp / "shm", "16m");  // tmpfs: no fs-verity, no reflink
  ASSERT_TRUE(shm.ok());
  test::write_file(tmp / "shm" / "src", std::string(20000, 'v'));
  ObjectStore store((tmp / "shm" / "store").string());
  store.set_verity_required(true);
  try {
    take(store, tmp / "shm" / "src", true);
    ADD_FAILURE() << "linked without fs-verity";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("fs-verity cannot be enabled"), std::string::npos)
        << e.what();
  }
}

TEST(TakeFile, AFileOfAnotherSizeIsRefused) {
  test::TempDir tmp;
  test::write_file(tmp / "src", "short");
  ObjectStore store((tmp / "store").string());
  UniqueFd fd(::open((tmp / "src").c_str(), O_RDONLY | O_CLOEXEC));
  Digest d{};
  EXPECT_THROW(store.take_file(
                   fd.get(), 100, false, [](std::span<const std::byte>) {}, &d),
               Error);
}

}  // namespace
}  // namespace cfs::store
