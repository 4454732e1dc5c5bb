"""A PyBullet client bound to one physics server, never the global default client.

Like ``pybullet_utils.bullet_client.BulletClient`` it injects ``physicsClientId`` into every call, but it
caches the bound functions (the simulator calls a few of them thousands of times per simulated second)
and keeps PyBullet's C-level start-up chatter off stdout, where CLI commands print JSON.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import sys
from collections.abc import Iterator
from typing import Any

__all__ = ["BulletConnection", "quiet_c_stdout"]


@contextlib.contextmanager
def quiet_c_stdout() -> Iterator[None]:
    """Send C-level writes to stdout (PyBullet's banner, ``argv[0]=``) to stderr while inside."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        yield
        return
    libc = ctypes.CDLL(None)
    sys.stdout.flush()
    libc.fflush(None)
    saved = os.dup(fd)
    try:
        os.dup2(sys.stderr.fileno() if _has_fileno(sys.stderr) else os.open(os.devnull, os.O_WRONLY), fd)
        yield
    finally:
        libc.fflush(None)
        os.dup2(saved, fd)
        os.close(saved)


def _has_fileno(stream: Any) -> bool:
    try:
        stream.fileno()
    except (AttributeError, OSError, ValueError):
        return False
    return True


with quiet_c_stdout():
    import pybullet


class BulletConnection:
    """One PyBullet physics server; attribute access returns pybullet functions bound to it."""

    def __init__(self, gui: bool = False) -> None:
        with quiet_c_stdout():
            self.client_id = pybullet.connect(pybullet.GUI if gui else pybullet.DIRECT)
        if self.client_id < 0:
            raise RuntimeError("could not start a PyBullet physics server")
        self._pid = os.getpid()

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(pybullet, name)
        if callable(attribute) and type(attribute).__name__ == "builtin_function_or_method":
            attribute = functools.partial(attribute, physicsClientId=self.client_id)
        self.__dict__[name] = attribute  # cache: later look-ups skip __getattr__
        return attribute

    @property
    def connected(self) -> bool:
        """Whether the server is still connected."""
        return self.client_id >= 0

    def disconnect(self) -> None:
        """Shut the physics server down (idempotent)."""
        if self.client_id >= 0 and self._pid == os.getpid():
            with contextlib.suppress(pybullet.error):
                pybullet.disconnect(physicsClientId=self.client_id)
        self.client_id = -1

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.disconnect()
