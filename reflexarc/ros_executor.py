"""Spinning a node on rclpy's C++ events executor, the way every single-threaded node here runs.

Why: the stock ``SingleThreadedExecutor`` rebuilds its wait set in Python on every wake-up. A reflex
woken by 20 scans, 50 odometry messages and 60 ``/clock`` ticks per simulated second spent most of its
CPU there (py-spy, clean-living-room at 4x: 18% of a core per reflex); the events executor does the
same work for about a third of that (BENCHMARKS.md: ``reflexarc bench scenario`` and ``reflex``).

Why a loop of ``spin_once``: in rclpy Kilted ``EventsExecutor.spin()`` busy-waits without running a
timer driven by ``/clock`` (``use_sim_time``), and ignores SIGTERM; ``spin_once`` runs both correctly.
"""

from __future__ import annotations

import contextlib

from rclpy.context import Context
from rclpy.executors import Executor, ExternalShutdownException
from rclpy.experimental import EventsExecutor
from rclpy.node import Node

__all__ = ["events_executor", "spin_until_shutdown"]

SPIN_SLICE_S = 0.5
"""How long one ``spin_once`` may wait; bounds how late a shutdown is noticed."""


def events_executor(node: Node, context: Context | None = None) -> Executor:
    """An events executor serving ``node`` (in ``context``, the default one if not given)."""
    executor = EventsExecutor(context=context)
    executor.add_node(node)
    return executor


def spin_until_shutdown(executor: Executor, context: Context) -> None:
    """Run callbacks until ``context`` shuts down (Ctrl-C, SIGTERM, ``rclpy.shutdown``), then return.

    An exception from a callback propagates; a shutdown landing mid-wait is the end this waits for.
    """
    with contextlib.suppress(ExternalShutdownException):
        while context.ok():
            executor.spin_once(timeout_sec=SPIN_SLICE_S)
