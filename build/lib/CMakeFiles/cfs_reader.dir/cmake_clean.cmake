file(REMOVE_RECURSE
  "CMakeFiles/cfs_reader.dir/reader/image.cc.o"
  "CMakeFiles/cfs_reader.dir/reader/image.cc.o.d"
  "CMakeFiles/cfs_reader.dir/reader/to_tree.cc.o"
  "CMakeFiles/cfs_reader.dir/reader/to_tree.cc.o.d"
  "libcfs_reader.a"
  "libcfs_reader.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang CXX)
  include(CMakeFiles/cfs_reader.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
