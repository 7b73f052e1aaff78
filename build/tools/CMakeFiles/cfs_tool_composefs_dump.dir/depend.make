# Empty dependencies file for cfs_tool_composefs_dump.
# This may be replaced when dependencies are built.
