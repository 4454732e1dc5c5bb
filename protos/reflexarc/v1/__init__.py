"""protos/reflexarc/v1."""
