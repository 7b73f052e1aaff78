# Empty dependencies file for cfs_cli.
# This may be replaced when dependencies are built.
