
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/main/lib/base/digest.cc" "lib/CMakeFiles/cfs_base.dir/base/digest.cc.o" "gcc" "lib/CMakeFiles/cfs_base.dir/base/digest.cc.o.d"
  "/work/main/lib/base/error.cc" "lib/CMakeFiles/cfs_base.dir/base/error.cc.o" "gcc" "lib/CMakeFiles/cfs_base.dir/base/error.cc.o.d"
  "/work/main/lib/base/file_io.cc" "lib/CMakeFiles/cfs_base.dir/base/file_io.cc.o" "gcc" "lib/CMakeFiles/cfs_base.dir/base/file_io.cc.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
