file(REMOVE_RECURSE
  "CMakeFiles/cfs_tool_composefs_info.dir/composefs-info/composefs-info.cc.o"
  "CMakeFiles/cfs_tool_composefs_info.dir/composefs-info/composefs-info.cc.o.d"
  "libcfs_tool_composefs_info.a"
  "libcfs_tool_composefs_info.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang CXX)
  include(CMakeFiles/cfs_tool_composefs_info.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
