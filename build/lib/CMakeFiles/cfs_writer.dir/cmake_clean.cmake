file(REMOVE_RECURSE
  "CMakeFiles/cfs_writer.dir/writer/emit.cc.o"
  "CMakeFiles/cfs_writer.dir/writer/emit.cc.o.d"
  "CMakeFiles/cfs_writer.dir/writer/layout.cc.o"
  "CMakeFiles/cfs_writer.dir/writer/layout.cc.o.d"
  "CMakeFiles/cfs_writer.dir/writer/prepare.cc.o"
  "CMakeFiles/cfs_writer.dir/writer/prepare.cc.o.d"
  "CMakeFiles/cfs_writer.dir/writer/writer.cc.o"
  "CMakeFiles/cfs_writer.dir/writer/writer.cc.o.d"
  "CMakeFiles/cfs_writer.dir/writer/xattrs.cc.o"
  "CMakeFiles/cfs_writer.dir/writer/xattrs.cc.o.d"
  "libcfs_writer.a"
  "libcfs_writer.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang CXX)
  include(CMakeFiles/cfs_writer.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
