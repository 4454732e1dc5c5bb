"""The one place logging is configured for command-line runs (nodes use the ROS logger)."""

from __future__ import annotations

import logging


def configure_logging(verbosity: int = 0) -> None:
    """Send log records to stderr; ``verbosity`` 0 = warnings, 1 = info, 2+ = debug."""
    level = logging.WARNING if verbosity <= 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
