// tar-split, as containers-storage keeps it for each layer (overlay-layers/<id>.tar-split.gz):
// gzip'd JSON lines that, with the layer's files, give back its tar byte for byte. Type 1 is a
// file entry ("name" or base64 "name_raw", "size"; "payload" is its CRC-64, unused: the
// diff_id check covers the bytes), type 2 a raw segment (base64 "payload": headers, padding,
// the end-of-archive blocks). Pure: a line in, an entry out. Layer: oci.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace cfs::oci::cstor {

struct TarSplitEntry {
  enum Kind { kFile, kSegment } kind = kSegment;
  std::string name;        // kFile: the path as the tar header has it ("./etc/hosts")
  std::uint64_t size = 0;  // kFile: the body's size
  std::string bytes;       // kSegment: the raw tar bytes
};

// One line (without its newline). Error(EUCLEAN) naming what is wrong.
TarSplitEntry parse_tar_split_line(std::string_view line);

}  // namespace cfs::oci::cstor
