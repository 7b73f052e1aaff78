# Empty dependencies file for cfs_writer.
# This may be replaced when dependencies are built.
