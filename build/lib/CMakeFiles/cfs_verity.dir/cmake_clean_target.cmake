file(REMOVE_RECURSE
  "libcfs_verity.a"
)
