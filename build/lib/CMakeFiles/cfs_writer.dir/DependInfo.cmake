
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/main/lib/writer/emit.cc" "lib/CMakeFiles/cfs_writer.dir/writer/emit.cc.o" "gcc" "lib/CMakeFiles/cfs_writer.dir/writer/emit.cc.o.d"
  "/work/main/lib/writer/layout.cc" "lib/CMakeFiles/cfs_writer.dir/writer/layout.cc.o" "gcc" "lib/CMakeFiles/cfs_writer.dir/writer/layout.cc.o.d"
  "/work/main/lib/writer/prepare.cc" "lib/CMakeFiles/cfs_writer.dir/writer/prepare.cc.o" "gcc" "lib/CMakeFiles/cfs_writer.dir/writer/prepare.cc.o.d"
  "/work/main/lib/writer/writer.cc" "lib/CMakeFiles/cfs_writer.dir/writer/writer.cc.o" "gcc" "lib/CMakeFiles/cfs_writer.dir/writer/writer.cc.o.d"
  "/work/main/lib/writer/xattrs.cc" "lib/CMakeFiles/cfs_writer.dir/writer/xattrs.cc.o" "gcc" "lib/CMakeFiles/cfs_writer.dir/writer/xattrs.cc.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  "/work/main/build/lib/CMakeFiles/cfs_format.dir/DependInfo.cmake"
  "/work/main/build/lib/CMakeFiles/cfs_tree.dir/DependInfo.cmake"
  "/work/main/build/lib/CMakeFiles/cfs_base.dir/DependInfo.cmake"
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
