file(REMOVE_RECURSE
  "CMakeFiles/mkcomposefs.dir/mkcomposefs/main.cc.o"
  "CMakeFiles/mkcomposefs.dir/mkcomposefs/main.cc.o.d"
  "mkcomposefs"
  "mkcomposefs.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang CXX)
  include(CMakeFiles/mkcomposefs.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
