// The PE section reader on files built here: sections found by name, sizes as the loader maps
// them, and hostile files (truncated anywhere, offsets past the end, huge counts) refused.
#include "boot/pe.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "base/error.h"

namespace cfs::boot {
namespace {

void put32(std::string& b, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + i] = static_cast<char>(v >> (8 * i));
}
void put16(std::string& b, std::size_t at, std::uint16_t v) {
  b[at] = static_cast<char>(v);
  b[at + 1] = static_cast<char>(v >> 8);
}

struct Section {
  std::string name;
  std::string data;
  std::uint32_t raw_padding = 0;  // SizeOfRawData = data size + this
};

// MZ stub (e_lfanew = 0x40), "PE\0\0", COFF header, a 16-byte optional header, the section
// table, then each section's data.
std::string make_pe(const std::vector<Section>& sections) {
  const std::size_t pe = 0x40, opt = 16, table = pe + 24 + opt;
  std::string b(table + 40 * sections.size(), '\0');
  b[0] = 'M';
  b[1] = 'Z';
  put32(b, 0x3c, pe);
  b.replace(pe, 4, std::string("PE\0\0", 4));
  put16(b, pe + 6, static_cast<std::uint16_t>(sections.size()));
  put16(b, pe + 20, opt);
  for (std::size_t i = 0; i < sections.size(); ++i) {
    std::size_t h = table + 40 * i;
    b.replace(h, sections[i].name.size(), sections[i].name);
    put32(b, h + 8, static_cast<std::uint32_t>(sections[i].data.size()));
    put32(b, h + 16, static_cast<std::uint32_t>(sections[i].data.size() + sections[i].raw_padding));
    put32(b, h + 20, static_cast<std::uint32_t>(b.size()));
    b += sections[i].data + std::string(sections[i].raw_padding, '\0');
  }
  return b;
}

std::span<const std::byte> bytes(const std::string& s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

std::string text(std::span<const std::byte> b) {
  std::string s(b.size(), '\0');
  if (!b.empty()) std::memcpy(s.data(), b.data(), b.size());
  return s;
}

std::string error_of(const std::string& file) {
  try {
    uki_cmdline(bytes(file));
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Pe, FindsSectionsByName) {
  std::string pe = make_pe(
      {{".osrel", "ID=debian\n"}, {".cmdline", "composefs=abc rw", 7}, {".linux", "kernel"}});
  EXPECT_EQ(text(*pe_section(bytes(pe), ".osrel")), "ID=debian\n");
  EXPECT_EQ(text(*pe_section(bytes(pe), ".linux")), "kernel");
  EXPECT_EQ(uki_cmdline(bytes(pe)), "composefs=abc rw");  // VirtualSize, not the padded raw size
  EXPECT_FALSE(pe_section(bytes(pe), ".initrd").has_value());
  EXPECT_FALSE(pe_section(bytes(pe), ".cmdlin").has_value()) << "whole names only";
  // Trailing NULs are not part of the command line; an 8-character name fills the field.
  EXPECT_EQ(uki_cmdline(bytes(make_pe({{".cmdline", std::string("a b\0\0", 5)}}))), "a b");
  EXPECT_EQ(error_of(make_pe({{".osrel", "x"}})), "UKI has no .cmdline section");
}

TEST(Pe, RefusesHostileFiles) {
  std::string good = make_pe({{".cmdline", "composefs=abc"}});
  // Every truncation is refused with a reason, never read past.
  for (std::size_t n = 0; n < good.size(); ++n) {
    std::string e = error_of(good.substr(0, n));
    EXPECT_TRUE(e.starts_with("not a PE file: ")) << n << ": " << e;
  }
  struct Case {
    const char* what;
    std::size_t at;
    std::uint32_t value;
    int width;
    std::string error;
  } cases[] = {
      {"e_lfanew past the end", 0x3c, 0xfffffff0, 4,
       "not a PE file: the PE signature runs past the end"},
      {"no PE signature", 0x40, 0x00004550 ^ 1, 4,
       "not a PE file: no PE signature at its e_lfanew"},
      {"huge section count", 0x46, 0xffff, 2, "not a PE file: the section table runs past the end"},
      {"huge optional header", 0x54, 0xffff, 2,
       "not a PE file: the section table runs past the end"},
      {"section data past the end", 0x40 + 24 + 16 + 20, 0xffffff00, 4,
       "not a PE file: section .cmdline runs past the end"},
      {"section size past the end", 0x40 + 24 + 16 + 8, 0x7fffffff, 4, ""},  // raw size caps it
      {"both sizes past the end", 0x40 + 24 + 16 + 16, 0x7fffffff, 4, ""},   // virtual size caps it
  };
  for (const Case& c : cases) {
    std::string pe = good;
    if (c.width == 4)
      put32(pe, c.at, c.value);
    else
      put16(pe, c.at, static_cast<std::uint16_t>(c.value));
    EXPECT_EQ(error_of(pe), c.error) << c.what;
  }
  std::string both = good;
  put32(both, 0x40 + 24 + 16 + 8, 0x7fffffff);
  put32(both, 0x40 + 24 + 16 + 16, 0x7fffffff);
  EXPECT_EQ(error_of(both), "not a PE file: section .cmdline runs past the end");
  std::string no_mz = good;
  no_mz[0] = 'X';
  EXPECT_EQ(error_of(no_mz), "not a PE file: no MZ signature");
}

}  // namespace
}  // namespace cfs::boot
