"""Training and evaluation of the reflex policy: 2D world, privileged teachers, distillation, benchmarks.

Everything here except :mod:`edge_agent.training.distill` is numpy-only and safe to import at runtime;
``distill`` needs the ``train`` extra (torch, onnx).
"""
