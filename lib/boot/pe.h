// The sections of a PE (EFI) executable, as far as a UKI's kernel command line needs them: the
// DOS stub's pointer, the COFF header, the section table (Microsoft's PE format; composefs-rs
// 0.9 crates/composefs-boot/src/uki.rs reads the same fields). Every offset is checked against
// the file's size. Layer: boot (pure: bytes in, values out).
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace cfs::boot {

// The bytes of the section called `name` (at most 8 characters): from its PointerToRawData,
// VirtualSize of them (no more than SizeOfRawData: past it the loader zero-fills). nullopt when
// no section has that name. Error(EUCLEAN) "not a PE file: <reason>" when the file is too short
// for its headers, lacks the MZ or PE signature, or a header or the section runs past its end.
std::optional<std::span<const std::byte>> pe_section(std::span<const std::byte> file,
                                                     std::string_view name);

// A UKI's .cmdline section as text, trailing NUL bytes dropped (the stub ignores them).
// Error(EUCLEAN) as pe_section, or "UKI has no .cmdline section".
std::string uki_cmdline(std::span<const std::byte> file);

}  // namespace cfs::boot
