file(REMOVE_RECURSE
  "CMakeFiles/cfs_cli.dir/common/cli.cc.o"
  "CMakeFiles/cfs_cli.dir/common/cli.cc.o.d"
  "CMakeFiles/cfs_cli.dir/common/image_file.cc.o"
  "CMakeFiles/cfs_cli.dir/common/image_file.cc.o.d"
  "libcfs_cli.a"
  "libcfs_cli.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang CXX)
  include(CMakeFiles/cfs_cli.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
