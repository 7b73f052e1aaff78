# Empty dependencies file for cfs_verity.
# This may be replaced when dependencies are built.
