file(REMOVE_RECURSE
  "libcfs_dump.a"
)
