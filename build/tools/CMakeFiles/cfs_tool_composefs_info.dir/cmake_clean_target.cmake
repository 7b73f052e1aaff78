file(REMOVE_RECURSE
  "libcfs_tool_composefs_info.a"
)
