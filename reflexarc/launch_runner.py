"""Run a parsed launch description: start, prefix logs, supervise and shut down every process.

:mod:`reflexarc.launch_xml` turns a launch file into :class:`~reflexarc.launch_xml.ProcessSpec`
entries; :class:`ProcessGroup` executes them the way ``ros2 launch`` does:

- each child gets its own session and process group, so a shutdown signal reaches the child and
  everything it started, and a Ctrl-C in the terminal reaches only the runner, which then stops the
  children in order;
- shutdown sends SIGINT, then SIGTERM after the spec's ``sigterm_timeout``, then SIGKILL after its
  ``sigkill_timeout``, to the whole group (also groups whose leader has already exited);
- a ``required`` process (``on_exit="shutdown"``) that exits stops all others and its exit status
  becomes the launch's;
- output lines are prefixed ``[name] `` on the console for ``output="screen"``/``"both"`` (stderr
  also for ``"log"``), and copied unprefixed to ``LOG_DIR/<name>.log`` when a log directory is given.

:func:`launch_file` is the Python entry point used by the demo orchestrator; ``reflexarc launch``
(:mod:`reflexarc.launch_cli`) wraps it for the command line.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TextIO

from reflexarc.launch_xml import LaunchDescription, LaunchError, ProcessSpec, parse_launch_file

__all__ = ["LaunchHandle", "ProcessGroup", "exit_status", "launch_file"]

_LOG = logging.getLogger(__name__)

_POLL_S = 0.05
_READER_JOIN_S = 2.0
_GIVE_UP_AFTER_SIGKILL_S = 5.0


def exit_status(returncode: int) -> int:
    """Map a ``Popen.returncode`` to a shell exit status (killed by signal N -> 128 + N)."""
    return 128 - returncode if returncode < 0 else returncode


@dataclass
class _Child:
    """A started process and the threads that serve it."""

    spec: ProcessSpec
    popen: subprocess.Popen
    log_file: TextIO | None
    threads: list[threading.Thread] = field(default_factory=list)
    log_lock: threading.Lock = field(default_factory=threading.Lock)
    returncode: int | None = None

    @property
    def pgid(self) -> int:
        return self.popen.pid  # start_new_session makes the child its group's leader


def _group_alive(pgid: int) -> bool:
    """True while the process group has a member that is not a zombie.

    Zombies still count for ``killpg(pgid, 0)``; an orphaned grandchild waits as one until init
    reaps it, which some container inits do only every second or so, so /proc is consulted.
    """
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    proc = Path("/proc")
    if not proc.is_dir():
        return True
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid pgrp ..."; comm may contain spaces and parentheses.
        fields = stat[stat.rfind(")") + 2:].split()
        if len(fields) > 2 and int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def _signal_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def _log_file_name(label: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", ".", label) + ".log"


class ProcessGroup:
    """Starts a set of :class:`ProcessSpec`, supervises them and tears them down as one.

    Thread-safe: :meth:`request_shutdown`, :meth:`kill` and :meth:`wait` may be called from any
    thread (the CLI calls :meth:`request_shutdown` from a signal handler).

    Args:
        specs: processes to start, in order.
        screen: where prefixed lines go; ``None`` silences the console.
        log_dir: when given, ``<name>.log`` per process plus ``launch.log`` with start/exit events.
        environ: base environment for children (``os.environ`` when omitted).
    """

    def __init__(
        self,
        specs: tuple[ProcessSpec, ...] | list[ProcessSpec],
        *,
        screen: TextIO | None = None,
        log_dir: str | os.PathLike[str] | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.specs = tuple(specs)
        self._screen = screen
        self._log_dir = Path(log_dir) if log_dir is not None else None
        self._environ = dict(os.environ if environ is None else environ)
        self._children: list[_Child] = []
        self._lock = threading.RLock()
        self._screen_lock = threading.Lock()
        self._started = False
        self._teardown_thread: threading.Thread | None = None
        self._kill_now = threading.Event()
        self._finished = threading.Event()
        self._exit_code: int | None = None
        self._launch_log: TextIO | None = None

    # -- public API ----------------------------------------------------------------------------

    def start(self) -> None:
        """Start every process; if one cannot start, stop the ones already running and raise."""
        failure: tuple[ProcessSpec, OSError] | None = None
        with self._lock:
            if self._started:
                raise RuntimeError("a ProcessGroup starts only once")
            self._started = True
            if self._log_dir is not None:
                self._log_dir.mkdir(parents=True, exist_ok=True)
                self._launch_log = (self._log_dir / "launch.log").open("a", encoding="utf-8", buffering=1)
            for spec in self.specs:
                try:
                    child = self._spawn(spec)
                except OSError as exc:
                    failure = (spec, exc)
                    break
                self._children.append(child)
                self._event(logging.INFO, f"[{spec.name}] process started with pid [{child.popen.pid}]")
                for thread in child.threads:
                    thread.start()
            if failure is not None:
                spec, exc = failure
                self._event(logging.ERROR, f"[{spec.name}] cannot start {spec.cmd[0]!r}: {exc.strerror}")
                self._begin_teardown(127)
            elif not self._children:
                self._begin_teardown(0)
        if failure is not None:
            self._finished.wait()
            spec, exc = failure
            raise LaunchError(f"cannot start process {spec.name!r} ({spec.cmd[0]}): {exc.strerror}") from exc

    @property
    def pids(self) -> dict[str, int]:
        """Process id of each started process, by name."""
        with self._lock:
            return {child.spec.name: child.popen.pid for child in self._children}

    @property
    def returncodes(self) -> dict[str, int | None]:
        """Raw ``Popen`` return code of each process (``None`` while it runs)."""
        with self._lock:
            return {child.spec.name: child.returncode for child in self._children}

    @property
    def running(self) -> bool:
        """True from :meth:`start` until every process group is gone."""
        return self._started and not self._finished.is_set()

    @property
    def returncode(self) -> int | None:
        """The launch's exit status once finished, else ``None``.

        The first required process's status when one exited; the ``exit_code`` given to
        :meth:`request_shutdown`; otherwise 0 if every process exited 0, else 1. Signal deaths
        count as 128 + N.
        """
        return self._exit_code if self._finished.is_set() else None

    def wait(self, timeout: float | None = None) -> int | None:
        """Block until everything has stopped (or ``timeout`` seconds); return :attr:`returncode`."""
        self._finished.wait(timeout)
        return self.returncode

    def request_shutdown(self, exit_code: int = 0) -> None:
        """Begin the SIGINT -> SIGTERM -> SIGKILL sequence without waiting (signal-handler safe)."""
        self._begin_teardown(exit_code)

    def shutdown(self, timeout: float | None = None, exit_code: int = 0) -> int | None:
        """Stop every process and wait for it; return :attr:`returncode`."""
        self.request_shutdown(exit_code)
        return self.wait(timeout)

    def kill(self) -> None:
        """Skip the grace periods: SIGKILL every process group now (a second Ctrl-C)."""
        self._begin_teardown(exit_status(-signal.SIGKILL))
        self._kill_now.set()

    # -- starting and serving ------------------------------------------------------------------

    def _spawn(self, spec: ProcessSpec) -> _Child:
        env = dict(self._environ)
        for name in spec.unset_env:
            env.pop(name, None)
        env.update(spec.env)
        env.setdefault("PYTHONUNBUFFERED", "1")  # line-by-line output from Python children
        args: str | list[str] = " ".join(spec.cmd) if spec.shell else list(spec.cmd)
        popen = subprocess.Popen(
            args,
            shell=spec.shell,
            cwd=spec.cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            close_fds=True,
        )
        log_file = None
        if self._log_dir is not None:
            log_file = (self._log_dir / _log_file_name(spec.name)).open("a", encoding="utf-8", buffering=1)
        child = _Child(spec, popen, log_file)
        to_screen_out = spec.output in ("screen", "both")
        child.threads = [
            threading.Thread(target=self._pump, args=(child, popen.stdout, to_screen_out),
                             name=f"launch-out-{spec.name}", daemon=True),
            threading.Thread(target=self._pump, args=(child, popen.stderr, True),
                             name=f"launch-err-{spec.name}", daemon=True),
            threading.Thread(target=self._reap, args=(child,), name=f"launch-wait-{spec.name}", daemon=True),
        ]
        return child

    def _pump(self, child: _Child, stream: IO[bytes], to_screen: bool) -> None:
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            with child.log_lock:
                if child.log_file is not None:
                    child.log_file.write(line + "\n")
            if to_screen and self._screen is not None:
                with self._screen_lock:
                    try:
                        self._screen.write(f"[{child.spec.name}] {line}\n")
                        self._screen.flush()
                    except (OSError, ValueError):
                        # The console went away (closed pipe): keep draining so children never block.
                        self._screen = None
        stream.close()

    def _reap(self, child: _Child) -> None:
        returncode = child.popen.wait()
        with self._lock:
            child.returncode = returncode
            pid = child.popen.pid
            stopping = self._teardown_thread is not None
            if returncode == 0:
                self._event(logging.INFO, f"[{child.spec.name}] process has finished cleanly [pid {pid}]")
            else:
                # A death while we are stopping everything is expected, not an error.
                command = " ".join(child.spec.cmd)
                self._event(logging.INFO if stopping else logging.ERROR,
                            f"[{child.spec.name}] process has died [pid {pid}, exit code {returncode}, "
                            f"cmd '{command}']")
            if child.spec.required:
                self._begin_teardown(exit_status(returncode))
            elif all(c.returncode is not None for c in self._children) and len(self._children) == len(self.specs):
                failed = any(c.returncode != 0 for c in self._children)
                self._begin_teardown(1 if failed else 0)

    def _event(self, level: int, message: str) -> None:
        _LOG.log(level, "%s", message)
        if self._launch_log is not None:
            with self._screen_lock:
                self._launch_log.write(f"{time.strftime('%H:%M:%S')} {logging.getLevelName(level)} {message}\n")

    # -- teardown ------------------------------------------------------------------------------

    def _begin_teardown(self, exit_code: int) -> None:
        with self._lock:
            if self._teardown_thread is not None:
                return
            self._exit_code = exit_code
            self._teardown_thread = threading.Thread(target=self._teardown, name="launch-teardown", daemon=True)
            self._teardown_thread.start()

    def _teardown(self) -> None:
        with self._lock:
            children = list(self._children)
        self._stop_groups(children)
        for child in children:
            child.threads[2].join(_GIVE_UP_AFTER_SIGKILL_S)  # the reaper: done once the leader exited
        deadline = time.monotonic() + _READER_JOIN_S
        for child in children:
            for reader in child.threads[:2]:
                reader.join(max(0.0, deadline - time.monotonic()))
                if reader.is_alive():
                    _LOG.warning("[%s] output still open after shutdown (a process left its group?)",
                                 child.spec.name)
        with self._lock:
            for child in children:
                with child.log_lock:
                    if child.log_file is not None:
                        child.log_file.close()
                        child.log_file = None
            if self._launch_log is not None:
                self._event(logging.INFO, f"launch finished with status {self._exit_code}")
                self._launch_log.close()
                self._launch_log = None
        self._finished.set()

    def _stop_groups(self, children: list[_Child]) -> None:
        """SIGINT each live group, escalate per its timeouts, until every group is empty."""
        stages = (signal.SIGINT, signal.SIGTERM, signal.SIGKILL)
        now = time.monotonic()
        pending: dict[int, tuple[_Child, int, float]] = {}
        for child in children:
            if _group_alive(child.pgid):
                _signal_group(child.pgid, stages[0])
                pending[child.pgid] = (child, 0, now + child.spec.sigterm_timeout)
        while pending:
            killing = self._kill_now.is_set()
            now = time.monotonic()
            for pgid, (child, stage, deadline) in list(pending.items()):
                if not _group_alive(pgid):
                    del pending[pgid]
                    continue
                if killing and stage < 2:
                    stage, deadline = 1, now
                if now < deadline:
                    continue
                if stage == 2:
                    _LOG.error("[%s] process group %d survived SIGKILL; giving up", child.spec.name, pgid)
                    del pending[pgid]
                    continue
                stage += 1
                name = signal.Signals(stages[stage]).name
                self._event(logging.WARNING, f"[{child.spec.name}] still running; sending {name}")
                _signal_group(pgid, stages[stage])
                timeout = child.spec.sigkill_timeout if stage == 1 else _GIVE_UP_AFTER_SIGKILL_S
                pending[pgid] = (child, stage, now + timeout)
            if pending and killing:
                time.sleep(_POLL_S)
            elif pending:
                self._kill_now.wait(_POLL_S)


class LaunchHandle:
    """A running launch file: its evaluated description plus the supervising :class:`ProcessGroup`.

    Use as a context manager to guarantee shutdown::

        with launch_file("launch/demo.launch.xml", {"robot": "r1"}, log_dir=out) as handle:
            ...
    """

    def __init__(self, description: LaunchDescription, group: ProcessGroup) -> None:
        self.description = description
        self.group = group

    @property
    def returncode(self) -> int | None:
        """Exit status once everything stopped (see :attr:`ProcessGroup.returncode`)."""
        return self.group.returncode

    @property
    def running(self) -> bool:
        """True while any process group of the launch is alive."""
        return self.group.running

    @property
    def pids(self) -> dict[str, int]:
        """Process id of each process, by name."""
        return self.group.pids

    def wait(self, timeout: float | None = None) -> int | None:
        """Wait until the launch ends by itself (required exit or all done); ``None`` on timeout."""
        return self.group.wait(timeout)

    def shutdown(self, timeout: float | None = None, exit_code: int = 0) -> int | None:
        """Stop every process (SIGINT, SIGTERM, SIGKILL) and wait; return the exit status."""
        return self.group.shutdown(timeout, exit_code)

    def request_shutdown(self, exit_code: int = 0) -> None:
        """Begin shutdown without waiting."""
        self.group.request_shutdown(exit_code)

    def kill(self) -> None:
        """SIGKILL every process group immediately."""
        self.group.kill()

    def __enter__(self) -> LaunchHandle:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.shutdown()


def launch_file(
    path: str | os.PathLike[str],
    args: Mapping[str, str] | None = None,
    *,
    log_dir: str | os.PathLike[str] | None = None,
    echo: bool = True,
    screen: TextIO | None = None,
    environ: Mapping[str, str] | None = None,
) -> LaunchHandle:
    """Parse ``path`` with launch ``args`` and start its processes.

    Args:
        path: a ROS 2 ``.launch.xml`` file.
        args: launch arguments (``name:=value`` on the command line).
        log_dir: directory for ``<name>.log`` per process and ``launch.log``; none when omitted.
        echo: write prefixed output lines to ``screen`` (standard output by default).
        screen: stream for prefixed lines.
        environ: base environment for ``$(env ...)`` and the children (``os.environ`` default).

    Raises:
        LaunchError: the file is invalid or a process cannot start (nothing is left running).
    """
    description = parse_launch_file(path, args, environ=environ)
    group = ProcessGroup(
        description.processes,
        screen=(screen if screen is not None else sys.stdout) if echo else None,
        log_dir=log_dir,
        environ=environ,
    )
    group.start()
    return LaunchHandle(description, group)
