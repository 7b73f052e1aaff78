#pragma once

namespace cfs::tools {
int composefs_setup_root_main(int argc, char** argv);
}
