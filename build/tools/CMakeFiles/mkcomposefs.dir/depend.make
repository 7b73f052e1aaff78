# Empty dependencies file for mkcomposefs.
# This may be replaced when dependencies are built.
