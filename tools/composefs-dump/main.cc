#include "composefs-dump/composefs-dump.h"

int main(int argc, char** argv) { return cfs::tools::composefs_dump_main(argc, argv); }
