file(REMOVE_RECURSE
  "libcfs_cli.a"
)
