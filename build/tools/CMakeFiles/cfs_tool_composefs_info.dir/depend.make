# Empty dependencies file for cfs_tool_composefs_info.
# This may be replaced when dependencies are built.
