#include "composefs-setup-root/composefs_setup_root.h"

int main(int argc, char** argv) { return cfs::tools::composefs_setup_root_main(argc, argv); }
