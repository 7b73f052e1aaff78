# Empty dependencies file for cfs_reader.
# This may be replaced when dependencies are built.
