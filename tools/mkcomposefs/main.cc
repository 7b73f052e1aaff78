#include "mkcomposefs/mkcomposefs.h"

int main(int argc, char** argv) { return cfs::tools::mkcomposefs_main(argc, argv); }
