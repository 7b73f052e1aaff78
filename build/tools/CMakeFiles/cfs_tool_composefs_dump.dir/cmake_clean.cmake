file(REMOVE_RECURSE
  "CMakeFiles/cfs_tool_composefs_dump.dir/composefs-dump/composefs-dump.cc.o"
  "CMakeFiles/cfs_tool_composefs_dump.dir/composefs-dump/composefs-dump.cc.o.d"
  "libcfs_tool_composefs_dump.a"
  "libcfs_tool_composefs_dump.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang CXX)
  include(CMakeFiles/cfs_tool_composefs_dump.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
