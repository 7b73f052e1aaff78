#include "boot/pe.h"

#include <array>
#include <cstring>

#include "base/error.h"
#include "base/le.h"

namespace cfs::boot {
namespace {

constexpr std::uint64_t kLfanewOffset = 0x3c;  // e_lfanew: where the PE signature is

struct CoffHeader {  // after the 4-byte "PE\0\0"
  le16 machine, number_of_sections;
  le32 time_date_stamp, pointer_to_symbol_table, number_of_symbols;
  le16 size_of_optional_header, characteristics;
};
static_assert(sizeof(CoffHeader) == 20 && alignof(CoffHeader) == 1);

struct SectionHeader {
  std::array<char, 8> name;  // NUL-padded, not terminated when 8 long
  le32 virtual_size, virtual_address, size_of_raw_data, pointer_to_raw_data;
  le32 pointer_to_relocations, pointer_to_line_numbers;
  le16 number_of_relocations, number_of_line_numbers;
  le32 characteristics;
};
static_assert(sizeof(SectionHeader) == 40 && alignof(SectionHeader) == 1);

[[noreturn]] void not_pe(const std::string& why) {
  throw Error(ErrorKind::kCorrupt, EUCLEAN, "not a PE file: " + why);
}

// load<T>, with the reason a short file gives.
template <class T>
T at(std::span<const std::byte> file, std::uint64_t off, const char* what) {
  if (off > file.size() || file.size() - off < sizeof(T))
    not_pe(std::string(what) + " runs past the end");
  return load<T>(file, off);
}

}  // namespace

std::optional<std::span<const std::byte>> pe_section(std::span<const std::byte> file,
                                                     std::string_view name) {
  if (name.size() > 8)
    throw Error(EINVAL, "PE section names have at most 8 characters: " + std::string(name));
  if (file.size() < kLfanewOffset + 4) not_pe("shorter than a DOS header");
  if (file[0] != std::byte{'M'} || file[1] != std::byte{'Z'}) not_pe("no MZ signature");
  std::uint64_t pe = at<le32>(file, kLfanewOffset, "the DOS header");
  auto signature = at<std::array<char, 4>>(file, pe, "the PE signature");
  if (std::memcmp(signature.data(), "PE\0\0", 4) != 0) not_pe("no PE signature at its e_lfanew");
  auto coff = at<CoffHeader>(file, pe + 4, "the COFF header");
  std::uint64_t table = pe + 4 + sizeof(CoffHeader) + coff.size_of_optional_header;
  std::uint64_t table_size = std::uint64_t{coff.number_of_sections} * sizeof(SectionHeader);
  if (table > file.size() || file.size() - table < table_size)
    not_pe("the section table runs past the end");
  std::array<char, 8> key{};
  std::memcpy(key.data(), name.data(), name.size());
  for (std::uint64_t i = 0; i < coff.number_of_sections; ++i) {
    auto s = at<SectionHeader>(file, table + i * sizeof(SectionHeader), "the section table");
    if (s.name != key) continue;
    std::uint64_t off = s.pointer_to_raw_data;
    std::uint64_t size = std::min<std::uint64_t>(s.virtual_size, s.size_of_raw_data);
    if (off > file.size() || file.size() - off < size)
      not_pe("section " + std::string(name) + " runs past the end");
    return file.subspan(off, size);
  }
  return std::nullopt;
}

std::string uki_cmdline(std::span<const std::byte> file) {
  std::optional<std::span<const std::byte>> section = pe_section(file, ".cmdline");
  if (!section) throw Error(ErrorKind::kCorrupt, EUCLEAN, "UKI has no .cmdline section");
  std::string text(section->size(), '\0');
  if (!section->empty()) std::memcpy(text.data(), section->data(), section->size());
  while (!text.empty() && text.back() == '\0') text.pop_back();
  return text;
}

}  // namespace cfs::boot
