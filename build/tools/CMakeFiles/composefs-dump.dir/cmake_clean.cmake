file(REMOVE_RECURSE
  "CMakeFiles/composefs-dump.dir/composefs-dump/main.cc.o"
  "CMakeFiles/composefs-dump.dir/composefs-dump/main.cc.o.d"
  "composefs-dump"
  "composefs-dump.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang CXX)
  include(CMakeFiles/composefs-dump.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
