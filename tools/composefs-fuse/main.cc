#include "composefs-fuse/composefs_fuse.h"

int main(int argc, char** argv) { return cfs::tools::composefs_fuse_main(argc, argv); }
