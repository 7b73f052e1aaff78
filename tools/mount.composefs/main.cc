#include "mount.composefs/mount_composefs.h"

int main(int argc, char** argv) { return cfs::tools::mount_composefs_main(argc, argv); }
