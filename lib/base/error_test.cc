#include "base/error.h"

#include <gtest/gtest.h>

namespace cfs {
namespace {

TEST(Error, WrappingKeepsKindErrnoAndChain) {
  Error inner(ErrorKind::kTransient, EIO, "connection reset");
  Error outer = inner.wrap("GET http://x/blob").wrap("layer sha256:ab");
  EXPECT_EQ(outer.kind(), ErrorKind::kTransient);
  EXPECT_EQ(outer.code(), EIO);
  EXPECT_EQ(outer.chain(), (std::vector<std::string>{"layer sha256:ab", "GET http://x/blob", "connection reset"}));
  EXPECT_EQ(outer.cause(), "connection reset");
  EXPECT_STREQ(outer.what(), "layer sha256:ab: GET http://x/blob: connection reset");
}

TEST(Error, WithContextWrapsOnlyErrors) {
  EXPECT_EQ(with_context("unused", [] { return 7; }), 7);
  try {
    with_context("reading meta.json", [] { throw Error(ENOSPC, "write failed"); });
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kLocalIo);
    EXPECT_STREQ(e.what(), "reading meta.json: write failed");
  }
}

TEST(Error, KindFromErrno) {
  struct Case {
    int err;
    ErrorKind kind;
  };
  for (Case c : {Case{ENOENT, ErrorKind::kNotFound}, Case{EUCLEAN, ErrorKind::kCorrupt}, Case{EBADMSG, ErrorKind::kCorrupt},
                 Case{EACCES, ErrorKind::kRefused}, Case{ENOSPC, ErrorKind::kLocalIo}, Case{EMFILE, ErrorKind::kLocalIo},
                 Case{ECANCELED, ErrorKind::kCancelled}, Case{EIO, ErrorKind::kFailed}}) {
    EXPECT_EQ(Error(c.err, "x").kind(), c.kind) << c.err;
  }
}

TEST(Error, OsErrorReadsAsRustPrintsIt) {
  EXPECT_STREQ(os_error(ENOENT).wrap("Opening image 'x'").what(),
               "Opening image 'x': No such file or directory (os error 2)");
}

}  // namespace
}  // namespace cfs
