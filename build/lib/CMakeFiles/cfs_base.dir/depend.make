# Empty dependencies file for cfs_base.
# This may be replaced when dependencies are built.
