# Empty dependencies file for composefs-info.
# This may be replaced when dependencies are built.
