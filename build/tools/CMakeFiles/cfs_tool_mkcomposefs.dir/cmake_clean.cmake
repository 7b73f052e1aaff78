file(REMOVE_RECURSE
  "CMakeFiles/cfs_tool_mkcomposefs.dir/mkcomposefs/mkcomposefs.cc.o"
  "CMakeFiles/cfs_tool_mkcomposefs.dir/mkcomposefs/mkcomposefs.cc.o.d"
  "libcfs_tool_mkcomposefs.a"
  "libcfs_tool_mkcomposefs.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang CXX)
  include(CMakeFiles/cfs_tool_mkcomposefs.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
