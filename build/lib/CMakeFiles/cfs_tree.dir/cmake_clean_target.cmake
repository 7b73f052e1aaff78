file(REMOVE_RECURSE
  "libcfs_tree.a"
)
