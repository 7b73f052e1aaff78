
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/main/lib/tree/tree.cc" "lib/CMakeFiles/cfs_tree.dir/tree/tree.cc.o" "gcc" "lib/CMakeFiles/cfs_tree.dir/tree/tree.cc.o.d"
  "/work/main/lib/tree/xattr_budget.cc" "lib/CMakeFiles/cfs_tree.dir/tree/xattr_budget.cc.o" "gcc" "lib/CMakeFiles/cfs_tree.dir/tree/xattr_budget.cc.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  "/work/main/build/lib/CMakeFiles/cfs_base.dir/DependInfo.cmake"
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
