# Empty dependencies file for cfs_dump.
# This may be replaced when dependencies are built.
