file(REMOVE_RECURSE
  "CMakeFiles/cfs_base.dir/base/digest.cc.o"
  "CMakeFiles/cfs_base.dir/base/digest.cc.o.d"
  "CMakeFiles/cfs_base.dir/base/error.cc.o"
  "CMakeFiles/cfs_base.dir/base/error.cc.o.d"
  "CMakeFiles/cfs_base.dir/base/file_io.cc.o"
  "CMakeFiles/cfs_base.dir/base/file_io.cc.o.d"
  "libcfs_base.a"
  "libcfs_base.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang CXX)
  include(CMakeFiles/cfs_base.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
