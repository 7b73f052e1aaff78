file(REMOVE_RECURSE
  "CMakeFiles/cfs_verity.dir/verity/fsverity.cc.o"
  "CMakeFiles/cfs_verity.dir/verity/fsverity.cc.o.d"
  "CMakeFiles/cfs_verity.dir/verity/measure.cc.o"
  "CMakeFiles/cfs_verity.dir/verity/measure.cc.o.d"
  "libcfs_verity.a"
  "libcfs_verity.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang CXX)
  include(CMakeFiles/cfs_verity.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
