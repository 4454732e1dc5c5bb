"""The project's launch files (``launch/*.launch.xml``) resolve to the processes and parameters they promise.

Parsed with the launch runner's evaluator (no process is started): every argument is declared with a
default and a description, namespaces and per-robot parameters land where the edge interfaces
(docs/ros_interfaces.md) need them, and the switches turn nodes on and off.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reflexarc.launch_xml import declared_arguments, parse_launch_file

LAUNCH_DIR = Path(__file__).resolve().parent.parent / "launch"
FILES = ("sim.launch.xml", "robot.launch.xml", "planner.launch.xml", "demo.launch.xml", "fleet.launch.xml")


def processes(name: str, **args: str) -> dict:
    """Label -> ProcessSpec of a launch file evaluated with ``args``."""
    return {p.name: p for p in parse_launch_file(LAUNCH_DIR / name, args).processes}


def params(spec) -> dict:
    """The node parameters of one process."""
    return dict(spec.node.parameters)


@pytest.mark.parametrize("name", FILES)
def test_every_argument_has_a_default_and_a_description(name):
    arguments = declared_arguments(LAUNCH_DIR / name)
    assert arguments
    for argument in arguments:
        assert argument.default is not None, f"{name}: {argument.name} has no default"
        assert len(argument.description) > 15, f"{name}: {argument.name} is not described"


@pytest.mark.parametrize("name", FILES)
def test_every_file_evaluates_with_its_defaults_and_nodes_take_sim_time(name):
    started = processes(name)
    assert started
    for label, spec in started.items():
        if spec.node is not None and spec.node.executable in ("reflex_node", "executive_node", "voice_node"):
            assert params(spec)["use_sim_time"] is True, label


def test_robot_stack_runs_the_reflex_in_the_robot_namespace_and_is_required():
    started = processes("robot.launch.xml", robot="dog1", robot_radius="0.3", scan_timeout_s="0.1")
    reflex = started["dog1/reflex_node"]
    assert reflex.node.namespace == "/dog1" and reflex.required
    assert params(reflex)["robot_radius"] == pytest.approx(0.3)
    assert params(reflex)["scan_timeout_s"] == pytest.approx(0.1)


def test_demo_runs_sim_planner_three_reflexes_and_the_executive_with_voice_on_request():
    started = processes("demo.launch.xml")
    assert set(started) == {"sim_node", "planner", "robot1/reflex_node", "dog1/reflex_node",
                            "vacuum1/reflex_node", "executive_node"}
    radii = {label: params(spec)["robot_radius"] for label, spec in started.items() if "reflex" in label}
    assert radii == {"robot1/reflex_node": 0.25, "dog1/reflex_node": 0.3, "vacuum1/reflex_node": 0.17}
    assert params(started["sim_node"])["robots"] == ["robot1", "dog1", "vacuum1"]
    assert params(started["executive_node"])["planner_addresses"] == ["127.0.0.1:50051"]
    with_voice = processes("demo.launch.xml", voice="true", wav_path="/tmp/cmd.wav", planner="false",
                           planner_addresses="10.0.0.5:7000,10.0.0.6:7000")
    assert params(with_voice["voice_node"])["wav_path"] == "/tmp/cmd.wav"
    assert "planner" not in with_voice
    assert params(with_voice["executive_node"])["planner_addresses"] == ["10.0.0.5:7000", "10.0.0.6:7000"]


def test_fleet_puts_each_reflex_in_its_robots_group_namespace():
    started = processes("fleet.launch.xml", planner="false", executive="false")
    namespaces = sorted(spec.node.namespace for spec in started.values() if spec.node.executable == "reflex_node")
    assert namespaces == ["/dog1", "/robot1", "/vacuum1"]
    assert set(started) == {"sim_node", "robot1/reflex_node", "dog1/reflex_node", "vacuum1/reflex_node"}


def test_sim_takes_a_single_robot_or_a_comma_separated_list():
    assert params(processes("sim.launch.xml", robots="robot1")["sim_node"])["robots"] == ["robot1"]
    two = params(processes("sim.launch.xml", robots="robot1,vacuum1", speed="3")["sim_node"])
    assert two["robots"] == ["robot1", "vacuum1"] and two["speed"] == 3


def test_planner_passes_lookahead_only_when_a_number_is_given():
    assert "lookahead" not in params(processes("planner.launch.xml")["planner"])
    assert params(processes("planner.launch.xml", lookahead="2", port="6000")["planner"]) == {
        "host": "127.0.0.1", "port": 6000, "backend": "embedded", "lookahead": 2}
