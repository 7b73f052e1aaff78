file(REMOVE_RECURSE
  "CMakeFiles/cfs_tree.dir/tree/tree.cc.o"
  "CMakeFiles/cfs_tree.dir/tree/tree.cc.o.d"
  "CMakeFiles/cfs_tree.dir/tree/xattr_budget.cc.o"
  "CMakeFiles/cfs_tree.dir/tree/xattr_budget.cc.o.d"
  "libcfs_tree.a"
  "libcfs_tree.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang CXX)
  include(CMakeFiles/cfs_tree.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
