file(REMOVE_RECURSE
  "libcfs_reader.a"
)
