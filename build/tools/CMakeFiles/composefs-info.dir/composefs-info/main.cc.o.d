tools/CMakeFiles/composefs-info.dir/composefs-info/main.cc.o: \
 /work/main/tools/composefs-info/main.cc /usr/include/stdc-predef.h \
 /work/main/tools/composefs-info/composefs-info.h
