tools/CMakeFiles/mkcomposefs.dir/mkcomposefs/main.cc.o: \
 /work/main/tools/mkcomposefs/main.cc /usr/include/stdc-predef.h \
 /work/main/tools/mkcomposefs/mkcomposefs.h
