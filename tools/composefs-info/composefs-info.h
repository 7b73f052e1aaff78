#pragma once

namespace cfs::tools {
int composefs_info_main(int argc, char** argv);
}
