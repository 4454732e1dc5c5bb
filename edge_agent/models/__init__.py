"""Shipped model files (``reflex_policy.onnx``), a package so the wheel carries them as package data."""
