// tar-split lines: segments, file entries (name, name_raw, size), and what is refused.
#include "oci/cstor/tar_split.h"

#include <gtest/gtest.h>

#include "base/error.h"

namespace cfs::oci::cstor {
namespace {

TEST(TarSplit, ParsesSegmentsAndFiles) {
  struct Case {
    const char* line;
    TarSplitEntry::Kind kind;
    std::string name, bytes;
    std::uint64_t size;
  } cases[] = {
      {R"({"type":2,"payload":"aGVhZGVy","position":0})", TarSplitEntry::kSegment, "", "header", 0},
      {R"({"type":2,"payload":null,"position":3})", TarSplitEntry::kSegment, "", "", 0},
      {R"({"type":1,"name":"./etc/hosts","size":12,"payload":"AAAAAAAAAAA=","position":1})",
       TarSplitEntry::kFile, "./etc/hosts", "", 12},
      {R"({"type":1,"name":"./","payload":null,"position":1})", TarSplitEntry::kFile, "./", "", 0},
      {R"({"type":1,"name_raw":"Li//","size":3,"position":1})", TarSplitEntry::kFile, "./\xff", "",
       3},
  };
  for (const Case& c : cases) {
    TarSplitEntry e = parse_tar_split_line(c.line);
    EXPECT_EQ(e.kind, c.kind) << c.line;
    EXPECT_EQ(e.name, c.name) << c.line;
    EXPECT_EQ(e.bytes, c.bytes) << c.line;
    EXPECT_EQ(e.size, c.size) << c.line;
  }
}

TEST(TarSplit, RefusesWhatItCannotRead) {
  struct Case {
    const char* line;
    const char* why;
  } cases[] = {
      {"not json", "not a JSON object"},
      {"[1]", "not a JSON object"},
      {R"({"payload":"eA=="})", "without a type"},
      {R"({"type":3})", "unknown entry type 3"},
      {R"({"type":2,"payload":"%%%"})", "not base64"},
      {R"({"type":1,"name":"a","size":-1})", "size is not a count of bytes"},
      {R"({"type":1,"size":5})", "without a name"},
      {R"({"type":1,"name":7,"size":5})", "\"name\" is not a string"},
  };
  for (const Case& c : cases) {
    try {
      parse_tar_split_line(c.line);
      ADD_FAILURE() << "accepted " << c.line;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kCorrupt) << c.line;
      EXPECT_NE(std::string(e.what()).find(c.why), std::string::npos) << c.line << ": " << e.what();
    }
  }
}

}  // namespace
}  // namespace cfs::oci::cstor
