file(REMOVE_RECURSE
  "libcfs_base.a"
)
