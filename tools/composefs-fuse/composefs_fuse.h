#pragma once

namespace cfs::tools {
int composefs_fuse_main(int argc, char** argv);
}
