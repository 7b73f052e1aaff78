# Empty dependencies file for cfs_tool_mkcomposefs.
# This may be replaced when dependencies are built.
