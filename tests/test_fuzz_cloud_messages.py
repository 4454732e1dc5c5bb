"""The edge refuses whatever a buggy or hostile cloud sends that is not an action of the library.

- Property (hypothesis): any ``Step`` built field by field from the proto descriptor decodes, and the
  edge's guard (``check_step_static``, the validator's static half, run on the robot's own scene)
  either refuses it or it is an allowlisted skill of a capable robot of the scene with well-typed
  arguments naming entities of that scene and no forbidden device state; the step queue never raises.
- Process: a real ``executive_node`` process connected over gRPC to a hostile cloud (a real
  ``Planner.Session`` server in the test) that streams steps outside the library, for robots that do
  not exist, unlocking the front door, with NaN waits, plus garbage revisions and cancels for other
  plans: none is queued, each is reported FAILED with the reason, the one valid step runs, and the
  node lives on.
"""

from __future__ import annotations

import contextlib
import json
import math
import queue
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent import futures
from pathlib import Path

import grpc
import pytest
from hypothesis import HealthCheck, given, settings
from proto_strategies import message_strategy
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from ros_helpers import RELIABLE, RosProbe, wait_until
from std_msgs.msg import String

from cloud_planner.errors import ValidationError
from cloud_planner.validator import check_step_static
from cloud_planner.wire import step_from_proto
from edge_agent.executive_node import StepScheduler
from protos.reflexarc.v1 import plan_pb2, planner_pb2, planner_pb2_grpc
from reflexarc.scene_graph import Device, Robot
from reflexarc.skills import SKILLS
from sim.home_layout import load_home_layout

SCENE = load_home_layout().scene_graph()
LATCHED = QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL, reliability=ReliabilityPolicy.RELIABLE)
FORBIDDEN = {"unlocked", "unlock", "open", "opened", "disarmed"}


# ------------------------------------------------------------------------------------ property
@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(message=message_strategy(plan_pb2.Step.DESCRIPTOR))
def test_any_step_from_the_cloud_is_refused_or_is_a_library_action_on_this_home(message):
    step = step_from_proto(message)
    try:
        check_step_static(step, SCENE)
    except ValidationError as exc:
        assert exc.message
        return
    robot = SCENE.get(step.robot)
    assert step.skill in SKILLS and isinstance(robot, Robot) and step.skill in robot.capabilities
    spec = SKILLS[step.skill]
    assert set(step.args) == set(spec.param_names)
    for param in spec.params:
        value = step.args[param.name]
        if param.kind.is_entity:
            assert value in SCENE
        elif param.kind.is_number:
            assert math.isfinite(value)
    if step.skill == "set_device":
        assert str(step.args["state"]).strip().lower() not in FORBIDDEN
        assert isinstance(SCENE.get(step.args["device"]), Device)
    scheduler = StepScheduler()
    scheduler.header(message.plan_id or "p", message.revision, max(message.index + 1, 1))
    scheduler.add(message.plan_id or "p", message.revision, step)


# ------------------------------------------------------------------------------------- process
def _step(index: int, robot: str, skill: str, **args: object) -> plan_pb2.Step:
    msg = plan_pb2.Step(plan_id="p-hostile", revision=0, index=index, robot=robot, skill=skill,
                        summary=f"{robot}.{skill}")
    for name, value in args.items():
        if isinstance(value, float):
            msg.args[name].number = value
        elif name in ("device", "target", "object", "room", "person", "to"):
            msg.args[name].entity = str(value)
        else:
            msg.args[name].text = str(value)
    return msg


VALID = _step(0, "robot1", "say", text="hello from a suspicious cloud")
HOSTILE = [
    _step(1, "robot1", "drive_at_speed", speed="5.0"),
    _step(2, "robot9", "say", text="I do not exist"),
    _step(3, "robot1", "set_device", device="front_door_lock", state="unlocked"),
    _step(4, "dog1", "wait", seconds=float("nan")),
    _step(5, "vacuum1", "pick", object="cup_red"),
]


class HostileCloud(planner_pb2_grpc.PlannerServicer):
    """A planner that answers a Hello with a plan full of steps no robot should take."""

    def __init__(self) -> None:
        self.progress: queue.Queue = queue.Queue()
        self.hello = threading.Event()

    def Session(self, request_iterator, context):  # noqa: N802 - gRPC method name
        inbox: queue.Queue = queue.Queue()

        def read() -> None:
            with contextlib.suppress(grpc.RpcError):
                for message in request_iterator:
                    inbox.put(message)
            inbox.put(None)

        threading.Thread(target=read, daemon=True).start()
        while True:
            message = inbox.get()
            if message is None:
                return
            if message.WhichOneof("message") == "hello":
                break
        self.hello.set()
        yield planner_pb2.CloudMessage(header=plan_pb2.PlanHeader(
            plan_id="p-hostile", revision=0, total_steps=len(HOSTILE) + 1, summary="hostile", command="x"))
        yield planner_pb2.CloudMessage(revise=plan_pb2.Revise(plan_id="p-other", revision=7, from_index=0,
                                                              total_steps=0))
        yield planner_pb2.CloudMessage(cancel=plan_pb2.Cancel(plan_id="p-other", reason="not yours"))
        for step in [VALID, *HOSTILE]:
            yield planner_pb2.CloudMessage(step=step)
        while context.is_active():
            message = inbox.get()
            if message is None:
                return
            if message.WhichOneof("message") == "progress":
                self.progress.put(message.progress)


@pytest.fixture
def hostile_cloud() -> Iterator[tuple[HostileCloud, int]]:
    cloud = HostileCloud()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    planner_pb2_grpc.add_PlannerServicer_to_server(cloud, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield cloud, port
    server.stop(grace=0)


@pytest.mark.timeout(180)
def test_the_executive_refuses_every_step_outside_the_library_and_runs_the_valid_one(
        hostile_cloud, ros_env, ros_domain_id, tmp_path):
    cloud, port = hostile_cloud
    log = tmp_path / "executive.log"
    cmd = [sys.executable, "-m", "edge_agent.executive_node", "--ros-args",
           "-p", f"planner_addresses:=['127.0.0.1:{port}']"]
    with RosProbe(ros_domain_id) as probe:
        status = probe.listen(String, "/executive/status", LATCHED)
        said = probe.listen(String, "/executive/say", RELIABLE)
        scene_pub = probe.publisher(String, "/scene_graph", LATCHED)
        scene_pub.publish(String(data=SCENE.to_json()))
        proc = subprocess.Popen(cmd, env=ros_env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
        try:
            assert cloud.hello.wait(60), f"the executive never said Hello: {_tail(log)}"
            refused: dict[int, str] = {}
            def all_refused() -> bool:
                with contextlib.suppress(queue.Empty):
                    while True:
                        p = cloud.progress.get_nowait()
                        if p.status == planner_pb2.STEP_STATUS_FAILED:
                            refused[p.index] = p.observation
                return set(refused) >= {s.index for s in HOSTILE}
            wait_until(all_refused, 60, f"not every hostile step was refused: {refused} {_tail(log)}")
            assert all(text.startswith("refused by the edge") for text in refused.values()), refused
            wait_until(lambda: any("suspicious cloud" in m.data for m in said.messages), 60,
                       f"the valid step did not run: {_tail(log)}")
            queued = {(row["index"], row["skill"]) for m in status.messages for row in json.loads(m.data)["steps"]}
            assert queued == {(VALID.index, "say")}
            assert proc.poll() is None, "the executive died"
        finally:
            proc.terminate()
            proc.wait(20)


def _tail(path: Path) -> str:
    return path.read_text(errors="replace")[-1500:] if path.exists() else ""
