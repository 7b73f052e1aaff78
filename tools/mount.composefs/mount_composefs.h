#pragma once

namespace cfs::tools {
int mount_composefs_main(int argc, char** argv);
}
