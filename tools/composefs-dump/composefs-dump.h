#pragma once

namespace cfs::tools {
int composefs_dump_main(int argc, char** argv);
}
