file(REMOVE_RECURSE
  "CMakeFiles/cfs_dump.dir/dump/escape.cc.o"
  "CMakeFiles/cfs_dump.dir/dump/escape.cc.o.d"
  "CMakeFiles/cfs_dump.dir/dump/parse.cc.o"
  "CMakeFiles/cfs_dump.dir/dump/parse.cc.o.d"
  "CMakeFiles/cfs_dump.dir/dump/print.cc.o"
  "CMakeFiles/cfs_dump.dir/dump/print.cc.o.d"
  "libcfs_dump.a"
  "libcfs_dump.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang CXX)
  include(CMakeFiles/cfs_dump.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
