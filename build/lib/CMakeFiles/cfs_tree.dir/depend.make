# Empty dependencies file for cfs_tree.
# This may be replaced when dependencies are built.
