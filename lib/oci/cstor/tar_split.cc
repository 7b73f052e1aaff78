#include "oci/cstor/tar_split.h"

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "net/http.h"

namespace cfs::oci::cstor {

TarSplitEntry parse_tar_split_line(std::string_view line) {
  nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) throw_corrupt("tar-split: a line is not a JSON object");
  auto type = j.find("type");
  if (type == j.end() || !type->is_number_unsigned())
    throw_corrupt("tar-split: an entry without a type");
  auto text = [&](const char* key) -> std::string {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return "";
    if (!it->is_string()) throw_corrupt(std::string("tar-split: \"") + key + "\" is not a string");
    return it->get<std::string>();
  };
  auto decode = [](const std::string& b64, const char* what) {
    try {
      return net::base64_decode(b64);
    } catch (const Error&) {
      throw_corrupt(std::string("tar-split: ") + what + " is not base64");
    }
  };
  TarSplitEntry e;
  if (*type == 2) {
    e.bytes = decode(text("payload"), "a segment's payload");
    return e;
  }
  if (*type != 1) throw_corrupt("tar-split: unknown entry type " + type->dump());
  e.kind = TarSplitEntry::kFile;
  std::string raw = text("name_raw");
  e.name = raw.empty() ? text("name") : decode(raw, "name_raw");
  if (auto size = j.find("size"); size != j.end() && !size->is_null()) {
    if (!size->is_number_unsigned())
      throw_corrupt("tar-split: " + e.name + ": size is not a count of bytes");
    e.size = size->get<std::uint64_t>();
  }
  if (e.size > 0 && e.name.empty()) throw_corrupt("tar-split: a file entry without a name");
  return e;
}

}  // namespace cfs::oci::cstor
