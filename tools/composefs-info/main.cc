#include "composefs-info/composefs-info.h"

int main(int argc, char** argv) { return cfs::tools::composefs_info_main(argc, argv); }
