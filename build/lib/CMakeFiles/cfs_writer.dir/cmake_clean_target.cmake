file(REMOVE_RECURSE
  "libcfs_writer.a"
)
