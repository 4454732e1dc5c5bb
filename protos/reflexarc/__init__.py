"""protos/reflexarc."""
