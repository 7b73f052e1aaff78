file(REMOVE_RECURSE
  "CMakeFiles/composefs-info.dir/composefs-info/main.cc.o"
  "CMakeFiles/composefs-info.dir/composefs-info/main.cc.o.d"
  "composefs-info"
  "composefs-info.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang CXX)
  include(CMakeFiles/composefs-info.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
