file(REMOVE_RECURSE
  "CMakeFiles/cfs_format.dir/format/erofs.cc.o"
  "CMakeFiles/cfs_format.dir/format/erofs.cc.o.d"
  "CMakeFiles/cfs_format.dir/format/xattr_name.cc.o"
  "CMakeFiles/cfs_format.dir/format/xattr_name.cc.o.d"
  "libcfs_format.a"
  "libcfs_format.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang CXX)
  include(CMakeFiles/cfs_format.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
