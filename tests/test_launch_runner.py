"""Specification of the launch runner with real processes: supervision, shutdown and logs."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from reflexarc.launch_runner import LaunchHandle, ProcessGroup
from reflexarc.launch_runner import launch_file as _launch_file
from reflexarc.launch_xml import LaunchError, parse_launch_file

_DEADLINE_S = 20.0


@pytest.fixture
def launch_file():
    """``launch_file`` that never leaves processes behind, even when a test fails midway."""
    handles: list[LaunchHandle] = []

    def start(*args, **kwargs) -> LaunchHandle:
        handle = _launch_file(*args, **kwargs)
        handles.append(handle)
        return handle

    yield start
    for handle in handles:
        if handle.running:
            handle.kill()
            handle.wait(_DEADLINE_S)


def _script(directory: Path, name: str, *parts: str) -> Path:
    path = directory / name
    body = "".join(textwrap.dedent(part) for part in parts)
    path.write_text("import os, signal, subprocess, sys, time\n" + body, encoding="utf-8")
    return path


def _launch_xml(directory: Path, body: str) -> Path:
    path = directory / "test.launch.xml"
    path.write_text("<launch>\n" + textwrap.dedent(body) + "\n</launch>\n", encoding="utf-8")
    return path


def _py(script: Path) -> str:
    return f"{sys.executable} {script}"


def _wait_for(predicate, what: str) -> None:
    deadline = time.monotonic() + _DEADLINE_S
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _alive(pid: int) -> bool:
    """True if ``pid`` exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2] != "Z"


def _read_pid(path: Path) -> int:
    _wait_for(lambda: path.exists() and path.read_text().strip(), f"{path.name}")
    return int(path.read_text())


# A long-running process that records its pid, then sleeps until stopped.
_SLEEPER = """
    open(sys.argv[1] + ".tmp", "w").write(str(os.getpid()))
    os.replace(sys.argv[1] + ".tmp", sys.argv[1])
    time.sleep(120)
"""


def test_screen_output_is_prefixed_with_the_process_name(tmp_path, launch_file):
    talker = _script(tmp_path, "talker.py", """
        print("hello from stdout")
        print("warning from stderr", file=sys.stderr)
    """)
    path = _launch_xml(tmp_path, f'<executable cmd="{_py(talker)}" name="talker" output="screen"/>')
    screen = io.StringIO()
    handle = launch_file(path, screen=screen)
    assert handle.wait(_DEADLINE_S) == 0
    lines = screen.getvalue().splitlines()
    assert sorted(lines) == ["[talker] hello from stdout", "[talker] warning from stderr"]


def test_log_output_goes_to_the_log_file_and_only_stderr_to_the_screen(tmp_path, launch_file):
    talker = _script(tmp_path, "talker.py", """
        print("quiet line")
        print("error line", file=sys.stderr)
    """)
    path = _launch_xml(tmp_path, f'<executable cmd="{_py(talker)}" name="talker" output="log"/>')
    screen = io.StringIO()
    handle = launch_file(path, screen=screen, log_dir=tmp_path / "logs")
    assert handle.wait(_DEADLINE_S) == 0
    assert screen.getvalue() == "[talker] error line\n"
    assert sorted((tmp_path / "logs" / "talker.log").read_text().splitlines()) == ["error line", "quiet line"]
    assert "[talker] process started with pid" in (tmp_path / "logs" / "launch.log").read_text()


def test_required_process_exit_status_becomes_the_launch_status_and_stops_the_others(tmp_path, launch_file):
    sleeper = _script(tmp_path, "sleeper.py", _SLEEPER)
    quitter = _script(tmp_path, "quitter.py", """
        while not os.path.exists(sys.argv[1]):
            time.sleep(0.05)
        sys.exit(3)
    """)
    pid_file = tmp_path / "sleeper.pid"
    path = _launch_xml(tmp_path, f"""
        <executable cmd="{_py(sleeper)} {pid_file}" name="sleeper"/>
        <executable cmd="{_py(quitter)} {pid_file}" name="quitter" on_exit="shutdown"/>
    """)
    handle = launch_file(path, echo=False)
    assert handle.wait(_DEADLINE_S) == 3
    assert not _alive(_read_pid(pid_file))
    assert handle.group.returncodes["quitter"] == 3


def test_required_process_killed_by_a_signal_reports_128_plus_the_signal(tmp_path, launch_file):
    victim = _script(tmp_path, "victim.py", "os.kill(os.getpid(), signal.SIGTERM)\n")
    path = _launch_xml(tmp_path, f'<executable cmd="{_py(victim)}" name="victim" required="true"/>')
    assert launch_file(path, echo=False).wait(_DEADLINE_S) == 128 + signal.SIGTERM


def test_launch_ends_when_every_process_has_exited(tmp_path, launch_file):
    ok = _script(tmp_path, "ok.py", "sys.exit(0)\n")
    failing = _script(tmp_path, "failing.py", "sys.exit(4)\n")
    only_ok = _launch_xml(tmp_path, f'<executable cmd="{_py(ok)}"/><executable cmd="{_py(ok)}"/>')
    assert launch_file(only_ok, echo=False).wait(_DEADLINE_S) == 0
    with_failure = _launch_xml(tmp_path, f'<executable cmd="{_py(ok)}"/><executable cmd="{_py(failing)}"/>')
    assert launch_file(with_failure, echo=False).wait(_DEADLINE_S) == 1


def test_shutdown_escalates_to_sigterm_when_sigint_is_ignored(tmp_path, launch_file):
    stubborn = _script(tmp_path, "stubborn.py", """
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        def on_term(*_):
            open(sys.argv[2], "w").write("SIGTERM")
            sys.exit(0)
        signal.signal(signal.SIGTERM, on_term)
    """, _SLEEPER)
    pid_file, marker = tmp_path / "stubborn.pid", tmp_path / "marker"
    path = _launch_xml(tmp_path, f"""
        <executable cmd="{_py(stubborn)} {pid_file} {marker}" name="stubborn" sigterm_timeout="0.3"/>
    """)
    handle = launch_file(path, echo=False)
    _read_pid(pid_file)
    assert handle.shutdown(_DEADLINE_S) == 0
    assert marker.read_text() == "SIGTERM"
    assert handle.group.returncodes["stubborn"] == 0


def test_shutdown_sigkills_a_process_that_ignores_sigint_and_sigterm(tmp_path, launch_file):
    immortal = _script(tmp_path, "immortal.py", """
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    """, _SLEEPER)
    pid_file = tmp_path / "immortal.pid"
    path = _launch_xml(tmp_path, f"""
        <executable cmd="{_py(immortal)} {pid_file}" name="immortal" sigterm_timeout="0.2" sigkill_timeout="0.2"/>
    """)
    handle = launch_file(path, echo=False)
    pid = _read_pid(pid_file)
    assert handle.shutdown(_DEADLINE_S) == 0
    assert handle.group.returncodes["immortal"] == -signal.SIGKILL
    assert not _alive(pid)


def test_context_manager_exit_stops_every_process(tmp_path, launch_file):
    sleeper = _script(tmp_path, "sleeper.py", _SLEEPER)
    pid_file = tmp_path / "sleeper.pid"
    path = _launch_xml(tmp_path, f'<executable cmd="{_py(sleeper)} {pid_file}" name="sleeper"/>')
    with launch_file(path, echo=False) as handle:
        pid = _read_pid(pid_file)
        assert handle.running
    assert not handle.running
    assert not _alive(pid)


def test_children_inherit_the_environment_plus_set_env(tmp_path, launch_file):
    printer = _script(tmp_path, "printer.py", """
        print(os.environ.get("BASE"), os.environ.get("MODE"), os.environ.get("EXTRA"), os.environ.get("GONE"))
    """)
    path = _launch_xml(tmp_path, f"""
        <set_env name="MODE" value="sim"/>
        <unset_env name="GONE"/>
        <executable cmd="{_py(printer)}" name="printer" output="screen"><env name="EXTRA" value="1"/></executable>
    """)
    screen = io.StringIO()
    environ = {**os.environ, "BASE": "inherited", "GONE": "x"}
    assert launch_file(path, screen=screen, environ=environ).wait(_DEADLINE_S) == 0
    assert screen.getvalue() == "[printer] inherited sim 1 None\n"


def test_node_started_by_launch_gets_its_name_namespace_parameters_and_remaps(tmp_path, launch_file):
    node_script = tmp_path / "probe_node"
    node_script.write_text(f"#!{sys.executable}\n" + textwrap.dedent("""
        import rclpy
        from rclpy.node import Node
        rclpy.init()
        node = Node("default_name", automatically_declare_parameters_from_overrides=True)
        print(node.get_fully_qualified_name(), node.get_parameter("rate_hz").value,
              node.resolve_topic_name("cmd_vel"), flush=True)
        node.destroy_node()
        rclpy.try_shutdown()
    """), encoding="utf-8")
    node_script.chmod(0o755)
    path = _launch_xml(tmp_path, f"""
        <group>
            <push_ros_namespace namespace="robot1"/>
            <node exec="{node_script}" name="reflex" output="screen">
                <param name="rate_hz" value="50"/>
                <remap from="cmd_vel" to="cmd_vel_safe"/>
            </node>
        </group>
    """)
    screen = io.StringIO()
    assert launch_file(path, screen=screen).wait(_DEADLINE_S) == 0
    assert "[robot1/reflex] /robot1/reflex 50 /robot1/cmd_vel_safe" in screen.getvalue().splitlines()


def test_a_process_that_cannot_start_is_an_error_and_leaves_nothing_running(tmp_path):
    sleeper = _script(tmp_path, "sleeper.py", _SLEEPER)
    path = _launch_xml(tmp_path, f"""
        <executable cmd="{_py(sleeper)} {tmp_path / 'sleeper.pid'}" name="sleeper"/>
        <executable cmd="{tmp_path}/no-such-program" name="missing"/>
    """)
    group = ProcessGroup(parse_launch_file(path).processes)
    with pytest.raises(LaunchError, match="cannot start process 'missing'"):
        group.start()
    assert list(group.pids) == ["sleeper"]
    assert not _alive(group.pids["sleeper"])
    assert not group.running


def _run_cli(path: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "reflexarc.cli", "launch", str(path), *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )


def test_sigint_to_the_runner_stops_every_child_and_grandchild(tmp_path):
    parent = _script(tmp_path, "parent.py", """
        subprocess.Popen([sys.executable, sys.argv[2], sys.argv[3]])
    """, _SLEEPER)
    sleeper = _script(tmp_path, "sleeper.py", _SLEEPER)
    pid_files = [tmp_path / name for name in ("parent.pid", "grandchild.pid", "other.pid")]
    path = _launch_xml(tmp_path, f"""
        <executable cmd="{_py(parent)} {pid_files[0]} {sleeper} {pid_files[1]}" name="parent" output="screen"/>
        <executable cmd="{_py(sleeper)} {pid_files[2]}" name="other"/>
    """)
    runner = _run_cli(path)
    pids: list[int] = []
    try:
        pids = [_read_pid(pid_file) for pid_file in pid_files]
        runner.send_signal(signal.SIGINT)
        runner.wait(_DEADLINE_S)
        assert runner.returncode == 128 + signal.SIGINT
        _wait_for(lambda: not any(_alive(pid) for pid in pids), "every child and grandchild to stop")
    finally:
        for pid in [runner.pid, *pids]:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        runner.wait()


def test_cli_exit_status_is_the_required_process_status(tmp_path):
    quitter = _script(tmp_path, "quitter.py", 'print("bye", flush=True)\nsys.exit(int(sys.argv[1]))\n')
    path = _launch_xml(tmp_path, f"""
        <arg name="code"/>
        <executable cmd="{_py(quitter)} $(var code)" name="quitter" output="screen" required="true"/>
    """)
    runner = _run_cli(path, "code:=5")
    stdout, _ = runner.communicate(timeout=_DEADLINE_S)
    assert runner.returncode == 5
    assert stdout == "[quitter] bye\n"


def test_cli_reports_a_missing_required_argument_with_usage_status(tmp_path):
    path = _launch_xml(tmp_path, '<arg name="robot" description="which robot"/>')
    runner = _run_cli(path)
    _, stderr = runner.communicate(timeout=_DEADLINE_S)
    assert runner.returncode == 2
    assert "required launch argument 'robot' (which robot) was not provided" in stderr
