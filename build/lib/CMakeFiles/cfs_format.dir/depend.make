# Empty dependencies file for cfs_format.
# This may be replaced when dependencies are built.
