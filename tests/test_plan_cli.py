"""``reflexarc plan`` and ``reflexarc serve`` as scripts use them: real subprocesses, exit codes, JSON shape."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from cloud_planner.client import PlannerClient
from reflexarc.scene_graph import SceneObject
from sim.home_layout import load_home_layout

STEP_KEYS = {"index", "robot", "skill", "args", "expect", "on_failure"}


def reflexarc(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "reflexarc.cli", *args], capture_output=True, text=True,
                          timeout=timeout)


def test_plan_json_prints_the_design_shape_and_exits_0():
    result = reflexarc("plan", "bring me the red cup from the kitchen", "--json")
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    assert {"plan_id", "command", "backend", "steps"} <= set(plan)
    assert plan["backend"] == "embedded" and plan["command"] == "bring me the red cup from the kitchen"
    assert [s["skill"] for s in plan["steps"]] == ["navigate_to", "look_for", "pick", "navigate_to", "handover"]
    assert all(STEP_KEYS <= set(s) for s in plan["steps"])
    assert all(STEP_KEYS <= set(c) for c in plan["steps"][1]["on_failure"])
    assert plan["steps"][4]["args"] == {"object": "cup_red", "person": "user"}


def test_plan_of_a_korean_command_prints_readable_steps():
    result = reflexarc("plan", "주방에 가서 빨간 컵 가져와")
    assert result.returncode == 0, result.stderr
    assert "robot1: pick(object=cup_red)" in result.stdout and "(embedded, ko)" in result.stdout


def test_a_rejected_command_exits_2_naming_why_on_stderr_and_as_json():
    result = reflexarc("plan", "bring me the purple cup", "--json")
    assert result.returncode == 2
    assert "unknown_object" in result.stderr and "purple cup" in result.stderr
    error = json.loads(result.stdout)["error"]
    assert set(error) >= {"code", "message", "candidates"} and error["code"] == "unknown_object"
    assert "cup_red" in error["candidates"]


def test_plan_uses_the_scene_file_it_is_given(tmp_path: Path):
    scene = load_home_layout().scene_graph()
    twin = SceneObject("cup_red_2", "cup", "red", (8.4, 6.9, 0.5), "living_room", on="coffee_table")
    path = tmp_path / "scene.json"
    path.write_text(replace(scene, objects=(*scene.objects, twin)).to_json(), encoding="utf-8")
    result = reflexarc("plan", "bring me the red cup from the living room", "--scene", str(path), "--json")
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    assert plan["steps"][2]["args"] == {"object": "cup_red_2"} and "living room" in plan["summary"]


def test_an_unreadable_scene_file_is_an_error_not_a_rejection(tmp_path: Path):
    path = tmp_path / "scene.json"
    path.write_text("{not json", encoding="utf-8")
    result = reflexarc("plan", "go to the kitchen", "--scene", str(path))
    assert result.returncode == 1 and "cannot load scene" in result.stderr


@pytest.mark.timeout(60)
def test_serve_prints_its_address_serves_and_stops_cleanly_on_sigterm():
    proc = subprocess.Popen([sys.executable, "-m", "reflexarc.cli", "serve", "--port", "0", "--grace", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("listening on 127.0.0.1:"), line + proc.stderr.read()
        address = line.split("listening on ", 1)[1].strip()
        with PlannerClient(address) as client:
            assert client.health() == "SERVING"
            assert [s.skill for s in client.plan("go to the kitchen", None).steps] == ["navigate_to"]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.timeout(60)
def test_the_planner_server_script_takes_parameters_the_way_a_launch_file_passes_them():
    proc = subprocess.Popen([sys.executable, "-m", "cloud_planner.server", "--ros-args", "-r", "__node:=planner",
                             "-p", "port:=0", "-p", "lookahead:=0", "-p", "grace:=0"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("listening on "), line
        with PlannerClient(line.split("listening on ", 1)[1].strip()) as client, client.session() as session:
            session.hello("edge1", load_home_layout().scene_graph())
            assert session.receive(10).ack.detail == "lookahead=0"
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
