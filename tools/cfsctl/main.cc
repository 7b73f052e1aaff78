#include "cfsctl/cfsctl.h"

int main(int argc, char** argv) { return cfs::cfsctl::cfsctl_main(argc, argv); }
