# Read by cpack for each generator (CPACK_PROJECT_CONFIG_FILE). The Debian package keeps
# mount.composefs in /sbin, where mount(8) looks and where earlier versions of the package put
# it; tools/CMakeLists.txt reads this while CPack installs into its staging directory.
if(CPACK_GENERATOR STREQUAL "DEB")
  set(ENV{CFS_MOUNT_HELPER_IN_ROOT} 1)
else()
  unset(ENV{CFS_MOUNT_HELPER_IN_ROOT})
endif()
