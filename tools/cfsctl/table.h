// Tables as cfsctl draws them (comfy-table's UTF8_FULL preset, no wrapping). Layer: tools.
#pragma once

#include <string>
#include <vector>

namespace cfs::cfsctl {

std::string table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows);

}  // namespace cfs::cfsctl
