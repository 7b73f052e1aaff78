// Fuzz target: arbitrary bytes as the OCI documents a registry or a layout hands us (index,
// manifest, config) and as an image reference: a parsed result or an Error, never a crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/error.h"
#include "oci/manifest.h"
#include "oci/image_name.h"
#include "oci/registries_conf.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto guard = [](auto&& f) {
    try {
      f();
    } catch (const cfs::Error&) {
    }
  };
  guard([&] { cfs::oci::document_kind(text, ""); });
  guard([&] { cfs::oci::document_kind(text, cfs::oci::kOciManifest); });
  guard([&] { cfs::oci::select_from_index(text, {"linux", "amd64", ""}); });
  guard([&] {
    cfs::oci::Manifest m = cfs::oci::parse_manifest(text);
    for (const auto& l : m.layers) cfs::oci::layer_compression(l.media_type);
  });
  guard([&] { cfs::oci::parse_config(text); });
  guard([&] { cfs::oci::parse_image_name(std::string(text)); });
  guard([&] {
    cfs::oci::RegistriesConf conf;
    cfs::oci::merge_registries_conf(conf, text, "fuzz.conf");
    cfs::oci::pull_sources(conf, "example.com/a/b:1");
  });
  return 0;
}
