"""``reflexarc bench scenario``'s bookkeeping: which process is which, the speed a run reached, CPU from /proc."""

from __future__ import annotations

import subprocess
import sys
import time

from reflexarc.demo.bench_scenario import ProcessCpu, _sample, effective_speed, role_of

DEMO_LOG = """\
[   0.0s] scenario clean-living-room: the vacuum covers the living room, avoids a toy dropped mid-run, and docks
[   5.0s]   step 0 vacuum1.navigate_to(target=living_room) started at t=14.1s
[   5.0s]   step 1 vacuum1.clean_area(room=living_room) received
[  14.0s]   step 0 vacuum1.navigate_to(target=living_room) succeeded at t=48.9s
[ 185.0s]   step 2 vacuum1.dock() succeeded at t=722.4s
"""


def test_reached_speed_is_simulated_over_wall_time_between_the_first_and_last_step_events():
    assert abs(effective_speed(DEMO_LOG) - (722.4 - 14.1) / (185.0 - 5.0)) < 1e-9


def test_a_log_without_two_step_events_has_no_reached_speed():
    assert effective_speed("[   0.0s] scenario fetch-cup\n[   5.0s]   step 0 x started at t=3.0s\n") is None


def test_processes_are_named_by_the_node_they_run():
    assert role_of(["/v/bin/python", "/v/bin/sim_node", "--ros-args", "-r", "__node:=sim_node"]) == "sim_node"
    assert role_of(["/v/bin/python", "/v/bin/reflex_node", "--ros-args", "-r", "__ns:=/vacuum1"]) == "reflex_node/vacuum1"
    assert role_of(["/v/bin/python", "-m", "reflexarc.cli", "serve", "--port", "5"]) == "planner"
    assert role_of(["python", "-m", "reflexarc.cli", "demo", "fetch-cup"]) == "demo"


def test_a_busy_child_process_is_charged_its_cpu_time():
    busy = "import time\nend = time.time() + 1.5\nwhile time.time() < end: pass\n"
    parent = subprocess.Popen([sys.executable, "-c", f"import subprocess, sys; subprocess.run([sys.executable, '-c', {busy!r}])"])
    table: dict[int, ProcessCpu] = {}
    try:
        deadline = time.monotonic() + 10.0
        while parent.poll() is None and time.monotonic() < deadline:
            _sample(parent.pid, table)
            time.sleep(0.2)
    finally:
        parent.kill()
        parent.wait()
    assert len(table) == 2, table
    child = max(table.values(), key=lambda p: p.cpu_s)
    assert child.cpu_s >= 0.3, table
    assert 0.0 < child.share <= 1.05
