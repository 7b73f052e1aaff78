
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/main/tools/composefs-dump/main.cc" "tools/CMakeFiles/composefs-dump.dir/composefs-dump/main.cc.o" "gcc" "tools/CMakeFiles/composefs-dump.dir/composefs-dump/main.cc.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  "/work/main/build/tools/CMakeFiles/cfs_tool_composefs_dump.dir/DependInfo.cmake"
  "/work/main/build/tools/CMakeFiles/cfs_cli.dir/DependInfo.cmake"
  "/work/main/build/lib/CMakeFiles/cfs_dump.dir/DependInfo.cmake"
  "/work/main/build/lib/CMakeFiles/cfs_writer.dir/DependInfo.cmake"
  "/work/main/build/lib/CMakeFiles/cfs_reader.dir/DependInfo.cmake"
  "/work/main/build/lib/CMakeFiles/cfs_format.dir/DependInfo.cmake"
  "/work/main/build/lib/CMakeFiles/cfs_fsbuild.dir/DependInfo.cmake"
  "/work/main/build/lib/CMakeFiles/cfs_tree.dir/DependInfo.cmake"
  "/work/main/build/lib/CMakeFiles/cfs_store.dir/DependInfo.cmake"
  "/work/main/build/lib/CMakeFiles/cfs_verity.dir/DependInfo.cmake"
  "/work/main/build/lib/CMakeFiles/cfs_base.dir/DependInfo.cmake"
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
