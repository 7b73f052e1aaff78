#include "format/rules.h"

namespace cfs::format {

const FormatRules& rules_for_image(std::uint32_t composefs_version) {
  return composefs_version == kFormatV2 ? kV2Rules : kUpstreamRules;
}

}  // namespace cfs::format
