"""sim_node as the robots' driver: its topics, base commands, arm, gripper, devices and events over real DDS.

One sim_node process (``launch/sim.launch.xml``, all three robots, 2x real time) serves the whole
module; each test checks one behaviour through the ROS interface only, as the edge nodes use it.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

rclpy = pytest.importorskip("rclpy")
from geometry_msgs.msg import PointStamped, PoseStamped, TwistStamped  # noqa: E402
from nav_msgs.msg import OccupancyGrid, Odometry  # noqa: E402
from ros_helpers import (  # noqa: E402
    LATCHED,
    RosProbe,
    launched,
    module_domain_id,
    ros_environment,
    wait_until,
)
from rosgraph_msgs.msg import Clock  # noqa: E402
from sensor_msgs.msg import CameraInfo, Image, LaserScan  # noqa: E402
from std_msgs.msg import String  # noqa: E402
from std_srvs.srv import SetBool  # noqa: E402

from reflexarc.scene_graph import SceneGraph  # noqa: E402
from sim.home_layout import load_home_layout  # noqa: E402

SPEED = 2.0


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    """A running sim_node (robot1, dog1, vacuum1) and a probe on its domain."""
    domain = module_domain_id()
    logs = tmp_path_factory.mktemp("sim_logs")
    args = {"robots": "robot1,dog1,vacuum1", "speed": str(SPEED)}
    with launched("sim.launch.xml", args, ros_environment(domain), log_dir=logs) as handle, \
            RosProbe(domain, use_sim_time=True) as probe:
        probe.listen(Clock, "/clock", 10).wait(timeout=60.0)
        yield probe
        assert handle.returncode is None, "sim_node exited during the tests"


def seconds(stamp) -> float:
    """Seconds of a ROS time stamp."""
    return stamp.sec + stamp.nanosec * 1e-9


def test_clock_advances_at_about_the_requested_speed_and_stamps_follow_it(sim):
    clock = sim.listen(Clock, "/clock", 10)
    scans = sim.listen(LaserScan, "/robot1/scan")
    first = clock.wait(timeout=10.0)
    wait_until(lambda: len(scans) >= 10, 30.0, "fewer than 10 scans")
    arrivals = clock.timed
    (w0, c0), (w1, c1) = arrivals[0], arrivals[-1]
    assert seconds(c1.clock) > seconds(first.clock)
    # never faster than asked (a loaded machine may run it slower, never the clock backwards)
    assert (seconds(c1.clock) - seconds(c0.clock)) <= SPEED * (w1 - w0) + 0.2
    stamps = [seconds(m.header.stamp) for m in scans.messages]
    assert stamps == sorted(stamps)
    gaps = np.diff(stamps)
    assert np.all(np.abs(gaps - 0.05) < 0.02)  # 20 Hz in simulated time


def test_scan_and_odometry_describe_robot1_at_its_start_pose(sim):
    start = load_home_layout().robot("robot1").start
    scan = sim.listen(LaserScan, "/robot1/scan").wait(timeout=10.0)
    odom = sim.listen(Odometry, "/robot1/odom").wait(timeout=10.0)
    assert scan.header.frame_id == "robot1/base_link"
    assert len(scan.ranges) == 360
    assert scan.angle_min == pytest.approx(-math.pi)
    assert scan.angle_increment == pytest.approx(2 * math.pi / 360)
    assert (scan.range_min, scan.range_max) == (pytest.approx(0.05), pytest.approx(6.0))
    ranges = np.asarray(scan.ranges)
    finite = ranges[np.isfinite(ranges)]
    assert finite.size > 300 and finite.min() > 0.25 and finite.max() <= 6.0
    assert odom.header.frame_id == "map" and odom.child_frame_id == "robot1/base_link"
    assert odom.pose.pose.position.x == pytest.approx(start.x, abs=0.05)
    assert odom.pose.pose.position.y == pytest.approx(start.y, abs=0.05)


def test_map_and_scene_graph_are_latched_and_match_the_home(sim):
    layout = load_home_layout()
    grid = layout.occupancy_grid(0.05)
    occupancy = sim.listen(OccupancyGrid, "/map", LATCHED).wait(timeout=10.0)
    scene = SceneGraph.from_json(sim.listen(String, "/scene_graph", LATCHED).wait(timeout=10.0).data)
    assert (occupancy.info.width, occupancy.info.height) == (grid.width, grid.height)
    assert occupancy.info.resolution == pytest.approx(0.05)
    cells = np.asarray(occupancy.data, dtype=np.int8).reshape(grid.height, grid.width)
    assert np.array_equal(cells == 100, grid.data == 1)
    assert {r.id for r in scene.robots} == {"robot1", "dog1", "vacuum1"}
    assert "cup_red" in scene and "kitchen" in scene


def test_camera_frames_come_together_for_robot1_and_not_for_the_vacuum(sim):
    image = sim.listen(Image, "/robot1/camera/image", 2)
    depth = sim.listen(Image, "/robot1/camera/depth", 2)
    info = sim.listen(CameraInfo, "/robot1/camera/info", 2)
    pose = sim.listen(PoseStamped, "/robot1/camera/pose", 2)
    rgb = image.wait(timeout=30.0)
    assert (rgb.encoding, rgb.width, rgb.height, rgb.step) == ("rgb8", 160, 120, 480)
    d = depth.wait(lambda m: m.header.stamp == rgb.header.stamp, timeout=10.0)
    assert d.encoding == "32FC1"
    metres = np.frombuffer(bytes(d.data), dtype="<f4")
    assert metres.size == 160 * 120 and 0.05 < np.median(metres) < 8.0
    k = info.wait(lambda m: m.header.stamp == rgb.header.stamp, timeout=10.0).k
    assert k[0] > 0 and k[2] == pytest.approx(80.0) and k[5] == pytest.approx(60.0)
    p = pose.wait(lambda m: m.header.stamp == rgb.header.stamp, timeout=10.0)
    assert p.header.frame_id == "map" and 1.0 < p.pose.position.z < 1.5
    assert sim.node.count_publishers("/vacuum1/camera/image") == 0


def test_cmd_vel_drives_the_base_and_the_driver_stops_it_when_commands_stop(sim):
    odom = sim.listen(Odometry, "/robot1/odom")
    cmd = sim.publisher(TwistStamped, "/robot1/cmd_vel")
    sim.wait_for_subscribers(cmd)
    x0 = odom.wait(timeout=10.0).pose.pose.position.x
    t_end = sim.now() + 1.0
    while sim.now() < t_end:  # 1 s of simulated time at 0.3 m/s, commands at ~20 Hz
        msg = TwistStamped()
        msg.header.frame_id = "robot1/base_link"
        msg.twist.linear.x = 0.3
        cmd.publish(msg)
        sim_sleep(sim, 0.05)
    moving = odom.latest()
    assert moving.pose.pose.position.x - x0 > 0.15
    assert moving.twist.twist.linear.x > 0.1
    sim_sleep(sim, 1.2)  # no cmd_vel for longer than the 0.25 s driver timeout
    start = len(odom)
    stopped = odom.wait(lambda m: abs(m.twist.twist.linear.x) < 1e-3, timeout=10.0, after=start)
    assert abs(stopped.twist.twist.linear.x) < 1e-3


def sim_sleep(probe: RosProbe, seconds_sim: float) -> None:
    """Sleep for ``seconds_sim`` of simulated time."""
    end = probe.now() + seconds_sim
    wait_until(lambda: probe.now() >= end, 60.0, "simulated time did not advance", poll=0.005)


def arm_request(sim: RosProbe, xyz: tuple[float, float, float], sec: int, nanosec: int) -> dict:
    """Send an arm goal with request id ``sec.nanosec`` and return its arm/result."""
    results = sim.listen(String, "/robot1/arm/result")
    goal = sim.publisher(PointStamped, "/robot1/arm/goal")
    sim.wait_for_subscribers(goal)
    msg = PointStamped()
    msg.header.frame_id = "map"
    msg.header.stamp.sec, msg.header.stamp.nanosec = sec, nanosec
    msg.point.x, msg.point.y, msg.point.z = xyz
    goal.publish(msg)
    wanted = f"{sec}.{nanosec:09d}"
    return json.loads(results.wait(lambda m: json.loads(m.data)["request"] == wanted, timeout=60.0).data)


def test_arm_goal_within_reach_gives_a_successful_result_with_the_end_effector_there(sim):
    odom = sim.listen(Odometry, "/robot1/odom").wait(timeout=10.0)
    x, y = odom.pose.pose.position.x, odom.pose.pose.position.y
    target = (x + 0.45, y, 0.9)
    result = arm_request(sim, target, 7, 42)
    assert result["success"] is True and result["error"] == ""
    assert math.dist(result["ee"], target) < 0.03


def test_arm_motion_takes_simulated_time_while_scans_keep_coming(sim):
    scans = sim.listen(LaserScan, "/robot1/scan")
    clock = sim.listen(Clock, "/clock", 10)
    clock.wait(timeout=10.0)
    t_request = sim.now()
    odom = sim.listen(Odometry, "/robot1/odom").wait(timeout=10.0)
    x, y = odom.pose.pose.position.x, odom.pose.pose.position.y
    arm_request(sim, (x + 0.35, y + 0.25, 1.1), 9, 5)
    t_result = sim.now()
    assert t_result - t_request > 0.5  # the motion took simulated time...
    stamps = [seconds(m.header.stamp) for m in scans.messages if t_request <= seconds(m.header.stamp) <= t_result]
    assert len(stamps) >= 10
    assert max(np.diff(stamps)) < 0.1  # ...during which the driver kept scanning at 20 Hz


def test_arm_goal_out_of_reach_fails_and_closing_on_air_holds_nothing(sim):
    result = arm_request(sim, (0.5, 0.5, 0.9), 8, 1)
    assert result["success"] is False and result["error"]
    response = sim.call(SetBool, "/robot1/gripper/close", SetBool.Request(data=True), timeout=60.0)
    assert response.success is False and response.message == ""


def test_device_set_reports_a_result_and_updates_the_latched_states(sim):
    results = sim.listen(String, "/devices/result")
    states = sim.listen(String, "/devices/states", LATCHED)
    assert json.loads(states.wait(timeout=10.0).data)["light_kitchen"] == "off"
    request = sim.publisher(String, "/devices/set")
    sim.wait_for_subscribers(request)
    request.publish(String(data=json.dumps({"device": "light_kitchen", "state": "on", "request": "r-1"})))
    result = json.loads(results.wait(lambda m: json.loads(m.data)["request"] == "r-1", timeout=20.0).data)
    assert result == {"request": "r-1", "device": "light_kitchen", "state": "on", "success": True, "error": ""}
    states.wait(lambda m: json.loads(m.data)["light_kitchen"] == "on", timeout=20.0)
    request.publish(String(data=json.dumps({"device": "front_door_lock", "state": "unlocked", "request": "r-2"})))
    refused = json.loads(results.wait(lambda m: json.loads(m.data)["request"] == "r-2", timeout=20.0).data)
    assert refused["success"] is False and refused["state"] == "locked" and "unlocked" in refused["error"]


def test_drop_toy_event_appears_in_the_ground_truth(sim):
    truth = sim.listen(String, "/sim/ground_truth")
    events = sim.publisher(String, "/sim/event")
    sim.wait_for_subscribers(events)
    events.publish(String(data=json.dumps({"event": "drop_toy", "object": "toy_block", "xy": [7.5, 4.0]})))
    data = json.loads(truth.wait(lambda m: "toy_block" in json.loads(m.data)["objects"], timeout=30.0).data)
    x, y, z = data["objects"]["toy_block"]
    assert (x, y) == (pytest.approx(7.5, abs=0.1), pytest.approx(4.0, abs=0.1))
    assert set(data["robots"]) == {"robot1", "dog1", "vacuum1"}
    assert data["devices"]["front_door_lock"] == "locked"


# ------------------------------------------------------------------------- pure helpers
def test_quaternion_from_matrix_recovers_the_rotation():
    from sim.sim_node import quaternion_from_matrix

    rng = np.random.default_rng(3)
    for _ in range(20):
        q = rng.normal(size=4)
        x, y, z, w = q / np.linalg.norm(q)
        rotation = np.array([
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ])
        got = np.array(quaternion_from_matrix(rotation))
        assert min(np.abs(got - [x, y, z, w]).max(), np.abs(got + [x, y, z, w]).max()) < 1e-9


def test_request_ids_are_seconds_dot_zero_padded_nanoseconds():
    from builtin_interfaces.msg import Time

    from sim.sim_node import request_id, time_msg

    assert request_id(Time(sec=12, nanosec=42)) == "12.000000042"
    assert request_id(time_msg(3.5)) == "3.500000000"


def test_stepped_call_runs_only_while_the_loop_grants_simulated_time():
    from sim.sim_node import SteppedCall

    events: list[str] = []
    call: SteppedCall

    def motion() -> str:
        for k in range(3):
            events.append(f"worker wants 0.05 ({k})")
            call.request_step(0.05)
        events.append("worker done")
        return "reached"

    call = SteppedCall("test", motion)
    call.start()
    assert events == ["worker wants 0.05 (0)"] and not call.done
    for k in range(9):  # 1/60 s sub-steps: three cover one 0.05 s request
        events.append(f"loop step {k}")
        call.advanced(1.0 / 60.0)
    assert call.done
    call.resolve()
    assert call.future.result() == "reached"
    assert events == [
        "worker wants 0.05 (0)", "loop step 0", "loop step 1", "loop step 2",
        "worker wants 0.05 (1)", "loop step 3", "loop step 4", "loop step 5",
        "worker wants 0.05 (2)", "loop step 6", "loop step 7", "loop step 8", "worker done",
    ]
