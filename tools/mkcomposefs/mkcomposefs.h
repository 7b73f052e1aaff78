#pragma once

namespace cfs::tools {
int mkcomposefs_main(int argc, char** argv);
}
