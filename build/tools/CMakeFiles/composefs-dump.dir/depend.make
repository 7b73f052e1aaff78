# Empty dependencies file for composefs-dump.
# This may be replaced when dependencies are built.
