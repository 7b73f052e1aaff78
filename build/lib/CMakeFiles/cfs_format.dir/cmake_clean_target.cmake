file(REMOVE_RECURSE
  "libcfs_format.a"
)
