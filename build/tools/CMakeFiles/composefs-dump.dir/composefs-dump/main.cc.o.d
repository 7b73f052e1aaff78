tools/CMakeFiles/composefs-dump.dir/composefs-dump/main.cc.o: \
 /work/main/tools/composefs-dump/main.cc /usr/include/stdc-predef.h \
 /work/main/tools/composefs-dump/composefs-dump.h
