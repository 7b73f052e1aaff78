file(REMOVE_RECURSE
  "libcfs_tool_mkcomposefs.a"
)
