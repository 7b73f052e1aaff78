# CMake generated Testfile for 
# Source directory: /work/main/fuzz
# Build directory: /work/main/build/fuzz
# 
# This file includes the relevant testing commands required for 
# testing this directory and lists subdirectories to be tested as well.
add_test([=[FuzzRegressions.image]=] "/work/main/build/fuzz/replay_image" "/work/main/fuzz/regressions/image" "/work/main/fuzz/seeds/image")
set_tests_properties([=[FuzzRegressions.image]=] PROPERTIES  _BACKTRACE_TRIPLES "/work/main/fuzz/CMakeLists.txt;16;add_test;/work/main/fuzz/CMakeLists.txt;0;")
add_test([=[FuzzRegressions.dump]=] "/work/main/build/fuzz/replay_dump" "/work/main/fuzz/regressions/dump" "/work/main/fuzz/seeds/dump")
set_tests_properties([=[FuzzRegressions.dump]=] PROPERTIES  _BACKTRACE_TRIPLES "/work/main/fuzz/CMakeLists.txt;16;add_test;/work/main/fuzz/CMakeLists.txt;0;")
