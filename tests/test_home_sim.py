"""The PyBullet home: determinism, sensing, grasping, devices, events, and agreement with graph and grid."""

from __future__ import annotations

import math

import numpy as np
import pytest

from reflexarc.scene_graph import Pose2D
from sim.home_layout import load_home_layout
from sim.home_sim import HomeSim, SimError
from sim.sensors import LidarConfig

EXACT_LIDAR = LidarConfig(noise_sigma=0.0)
# robot1 parked square in front of the red cup on the kitchen counter (counter front edge at y = 8.275)
PICK_POSE = Pose2D(1.7, 7.9, math.pi / 2)


@pytest.fixture(scope="module")
def layout():
    return load_home_layout()


@pytest.fixture
def sim():
    world = HomeSim(lidar=EXACT_LIDAR)
    yield world
    world.close()


def _beam(scan, angle: float) -> float:
    """Range of the beam nearest to ``angle`` (robot frame)."""
    index = int(round((angle - scan.angle_min) / scan.angle_increment)) % len(scan.ranges)
    return float(scan.ranges[index])


def _drive_script(world: HomeSim) -> list[tuple[float, float, float]]:
    commands = [("robot1", 0.4, 0.0), ("vacuum1", 0.3, 0.5), ("robot1", 0.3, -0.6), ("vacuum1", 0.2, -0.4)]
    for robot, v, w in commands:
        world.set_cmd_vel(robot, v, w)
        world.step(1.3)
        world.scan(robot)
    return [tuple(world.odometry(r).__dict__.values())[:3] for r in world.robot_ids]


def test_same_seed_gives_identical_trajectories():
    runs = []
    for _ in range(2):
        with HomeSim(seed=5, robots=("robot1", "vacuum1")) as world:
            final = _drive_script(world)
            runs.append((final, world.trajectory("robot1"), world.trajectory("vacuum1"),
                         world.scan("robot1").ranges.tobytes()))
    assert runs[0] == runs[1]
    assert len(runs[0][1]) > 40  # the robots really moved and were sampled


def test_different_seeds_give_different_homes():
    with HomeSim(seed=1, robots=()) as a, HomeSim(seed=2, robots=()) as b:
        assert a.object_position("toy_duck") != b.object_position("toy_duck")


def test_lidar_beam_against_a_known_wall_is_within_1_cm(sim):
    # bedroom, facing +y: the kitchen|bedroom wall's face is at y = 4.45; the bedroom's east wall at x = 5.45
    sim.teleport_robot("robot1", Pose2D(2.75, 3.8, math.pi / 2))
    sim.step(0.05)
    scan = sim.scan("robot1")
    pose = sim.robot_pose("robot1")
    assert abs(_beam(scan, 0.0) - (4.45 - pose.y)) < 0.01
    assert abs(_beam(scan, -math.pi / 2) - (5.45 - pose.x)) < 0.01


def test_scan_follows_the_laser_scan_convention_and_never_sees_the_robot(sim):
    scan = sim.scan("robot1")
    assert scan.ranges.dtype == np.float32 and len(scan.ranges) == 360
    assert scan.angle_min == pytest.approx(-math.pi)
    assert scan.angle_increment == pytest.approx(2 * math.pi / 360)
    assert (scan.range_min, scan.range_max) == (0.05, 6.0)
    # docked in the open: nothing (least of all the robot's own body) closer than its radius
    assert float(np.min(scan.ranges)) > sim.robot_radius("robot1")


def test_lidar_noise_has_the_configured_spread():
    with HomeSim(robots=("robot1",), lidar=LidarConfig(noise_sigma=0.02)) as noisy, \
            HomeSim(robots=("robot1",), lidar=EXACT_LIDAR) as exact:
        a, b = noisy.scan("robot1").ranges, exact.scan("robot1").ranges
        both = np.isfinite(a) & np.isfinite(b)
        assert 0.012 < float(np.std(a[both] - b[both])) < 0.03


def test_velocity_commands_are_clamped_and_acceleration_limited(sim):
    sim.set_cmd_vel("robot1", 5.0, 0.0)
    sim.step(0.1)
    assert 0.0 < sim.odometry("robot1").v <= 0.8 * 0.1 + 0.005
    sim.step(1.5)
    assert sim.odometry("robot1").v == pytest.approx(0.5, abs=0.01)
    sim.set_cmd_vel("robot1", 0.0, 9.0)
    sim.step(1.5)
    assert sim.odometry("robot1").w == pytest.approx(1.5, abs=0.01)


def test_arm_picks_the_red_cup_from_the_counter_and_the_cup_rises(layout):
    with HomeSim(robots=("robot1",)) as world:
        world.teleport_robot("robot1", PICK_POSE)
        world.step(0.2)
        believed = layout.object_by_id("cup_red").position  # the prior map, not ground truth
        start_z = world.object_position("cup_red")[2]
        assert world.grasp_at("robot1", believed)
        assert world.held_object("robot1") == "cup_red"
        assert world.object_position("cup_red")[2] > start_z + 0.1
        assert world.scene_graph().get("cup_red").held_by == "robot1"
        world.arm_home("robot1")
        assert world.held_object("robot1") == "cup_red"


def test_pick_of_an_out_of_reach_cup_fails_and_leaves_it_in_place(layout):
    with HomeSim(robots=("robot1",)) as world:
        world.teleport_robot("robot1", PICK_POSE)  # the green mug is 1.5 m along the counter
        world.step(0.2)
        before = world.object_position("mug_green")
        assert not world.arm_move_to("robot1", layout.object_by_id("mug_green").position)
        assert not world.gripper("robot1", close=True)
        assert world.held_object("robot1") is None
        assert world.object_position("mug_green")[2] == pytest.approx(before[2], abs=0.002)


def test_closing_the_gripper_on_air_holds_nothing(sim):
    assert not sim.gripper("robot1", close=True)
    assert sim.held_object("robot1") is None


def test_dog_loads_luggage_only_within_reach_and_carries_it(sim):
    assert not sim.carry_load("dog1", "luggage")  # at its dock, the car is far away
    sim.teleport_robot("dog1", Pose2D(13.45, 1.7, 0.0))
    sim.step(0.1)
    assert sim.carry_load("dog1", "luggage")
    assert sim.scene_graph().get("luggage").held_by == "dog1"
    sim.set_cmd_vel("dog1", -0.3, 0.0)
    sim.step(2.0)
    sim.set_cmd_vel("dog1", 0.0, 0.0)
    sim.step(0.5)
    dog = sim.robot_pose("dog1")
    bag = sim.object_position("luggage")
    assert math.hypot(bag[0] - dog.x, bag[1] - dog.y) < 0.1 and bag[2] > 0.5
    assert sim.carry_unload("dog1")
    sim.step(1.0)
    assert sim.object_position("luggage")[2] < 0.2
    assert sim.scene_graph().get("luggage").held_by == ""


def test_manipulator_cannot_grasp_luggage():
    with HomeSim(robots=("robot1",)) as world:
        with pytest.raises(SimError):
            world.carry_load("robot1", "luggage")


def test_device_state_changes_show_in_the_scene_graph_and_the_world(sim):
    dark = sim.device_colour("light_kitchen")
    assert sim.set_device("light_kitchen", "on")
    assert sim.scene_graph().get("light_kitchen").state == "on"
    assert sim.device_colour("light_kitchen") != dark
    assert sim.set_device("thermostat", "22")
    assert sim.scene_graph().get("thermostat").state == "22"
    assert not sim.set_device("thermostat", "35")
    assert not sim.set_device("front_door_lock", "unlocked")
    assert sim.device_state("front_door_lock") == "locked"
    assert any(e.kind == "device_changed" and e.data["device"] == "light_kitchen" for e in sim.events)


def test_docks_follow_the_robots_and_batteries_charge_only_docked(sim):
    assert sim.dock_state("robot1").docked
    assert sim.scene_graph().get("dock_manipulator").state == "occupied"
    sim.set_cmd_vel("robot1", 0.4, 0.0)
    sim.step(2.0)
    sim.set_cmd_vel("robot1", 0.0, 0.0)
    sim.step(0.5)
    away = sim.dock_state("robot1")
    assert not away.docked and away.battery < 100.0
    assert sim.scene_graph().get("dock_manipulator").state == "free"


def test_toy_drop_event_places_a_new_obstacle_the_lidar_sees(sim):
    sim.teleport_robot("robot1", Pose2D(7.6, 4.6, math.pi / 2))  # looking at the sofa, 3.4 m ahead
    sim.step(0.1)
    before = _beam(sim.scan("robot1"), 0.0)
    sim.drop_object("toy_block", (7.6, 5.4), at_time=sim.time + 0.5)
    sim.step(0.3)
    assert "toy_block" not in sim.scene_graph()
    sim.step(1.2)
    toy = sim.scene_graph().get("toy_block")
    assert toy is not None and toy.room == "living_room" and toy.position[2] < 0.1
    after = _beam(sim.scan("robot1"), 0.0)
    assert after < before - 1.0
    assert after == pytest.approx(5.4 - 0.07 - 4.6, abs=0.05)
    assert any(e.kind == "object_dropped" and e.time >= 0.5 for e in sim.events)


def test_moving_the_person_updates_the_scene_graph(sim):
    sim.move_person((9.0, 5.0, 0.0))
    user = sim.scene_graph().get("user")
    assert (user.pose.x, user.pose.y, user.room) == (9.0, 5.0, "living_room")
    assert any(e.kind == "person_moved" for e in sim.events)


def test_car_arrived_event_brings_the_car_and_the_luggage():
    with HomeSim(robots=(), car_present=False) as world:
        assert "car" not in world.scene_graph() and "luggage" not in world.scene_graph()
        world.car_arrived(at_time=1.0)
        world.step(1.5)
        graph = world.scene_graph()
        assert graph.get("car").cls == "car"
        assert graph.get("luggage").on == "car"
        assert [e.kind for e in world.events] == ["car_arrived"]


def test_driving_into_a_wall_is_logged_as_a_collision(sim):
    sim.teleport_robot("vacuum1", Pose2D(4.9, 2.5, 0.0))  # heading for the bedroom's east wall
    sim.set_cmd_vel("vacuum1", 0.5, 0.0)
    sim.step(2.0)
    assert "wall" in sim.contacts("vacuum1", base_only=True)
    assert any(c.robot_id == "vacuum1" and c.other == "wall" for c in sim.collision_log)
    assert sim.robot_pose("vacuum1").x < 5.45 - 0.17 + 0.02  # stopped by the wall, not through it


def test_camera_sees_the_red_cup_on_the_counter(layout):
    with HomeSim(robots=("robot1",)) as world:
        world.teleport_robot("robot1", Pose2D(1.7, 7.6, math.pi / 2))
        world.step(0.1)
        frame = world.camera("robot1")
        assert frame.rgb.shape == (120, 160, 3) and frame.depth.shape == (120, 160)
        assert "cup_red" in frame.labels
        mask = frame.segmentation == frame.labels.index("cup_red")
        v, u = np.argwhere(mask).mean(axis=0)
        red = frame.rgb[mask].mean(axis=0)
        assert red[0] > 1.5 * red[1] and red[0] > 1.5 * red[2]
        seen = frame.pixel_to_world(u, v)
        cup = layout.object_by_id("cup_red").position
        assert math.dist(seen[:2], cup[:2]) < 0.06


def test_scene_graph_objects_match_the_physics_world(sim):
    graph = sim.scene_graph()
    for obj in graph.objects:
        assert obj.position == pytest.approx(sim.object_position(obj.id), abs=1e-3)
        if obj.on:
            support = sim.layout.furniture_by_id(obj.on)
            assert support.footprint.contains(np.array(obj.position[0]), np.array(obj.position[1]))
        assert graph.room_at(obj.position[0], obj.position[1]).id == obj.room
    robots = {r.id: r for r in graph.robots}
    pose = sim.robot_pose("dog1")
    assert (robots["dog1"].pose.x, robots["dog1"].pose.y) == pytest.approx((pose.x, pose.y), abs=1e-3)


def test_lidar_hits_on_static_geometry_land_in_occupied_grid_cells(sim):
    grid = sim.occupancy_grid()
    static = {"wall", "fence"} | {f.id for f in sim.layout.furniture}
    checked = 0
    for pose in (Pose2D(2.5, 7.6, 0.3), Pose2D(8.0, 5.2, 1.0), Pose2D(3.0, 1.0, 2.0), Pose2D(15.0, 3.8, 0.0)):
        angles = pose.yaw + np.linspace(-math.pi, math.pi, 360, endpoint=False)
        starts = [[pose.x + 0.26 * math.cos(a), pose.y + 0.26 * math.sin(a), 0.07] for a in angles]
        ends = [[pose.x + 6.0 * math.cos(a), pose.y + 6.0 * math.sin(a), 0.07] for a in angles]
        for hit in sim.client.rayTestBatch(starts, ends):
            if sim._body_entity.get(hit[0]) not in static:
                continue
            (x, y, _), (nx, ny, _) = hit[3], hit[4]
            # just inside the surface the ray hit, the grid must say occupied
            assert not grid.is_free(x - 0.02 * nx, y - 0.02 * ny), (pose, hit)
            checked += 1
    assert checked > 1000


def test_free_grid_cells_have_no_wall_or_furniture_above_them(sim):
    grid = sim.occupancy_grid()
    static = {"wall", "fence"} | {f.id for f in sim.layout.furniture}
    rng = np.random.default_rng(0)
    free = np.argwhere(grid.inflate(0.03).data == 0)
    cells = free[rng.choice(len(free), 1500, replace=False)]
    points = [grid.cell_to_world(int(r), int(c)) for r, c in cells]
    hits = sim.client.rayTestBatch([[x, y, 2.5] for x, y in points], [[x, y, 0.005] for x, y in points])
    blocked = [p for p, h in zip(points, hits, strict=True) if sim._body_entity.get(h[0]) in static]
    assert blocked == []
    occupied = np.argwhere(grid.data == 1)
    inner = [grid.cell_to_world(int(r), int(c)) for r, c in occupied[rng.choice(len(occupied), 500, replace=False)]]
    inner = [p for p in inner if _interior(grid, p)]
    hits = sim.client.rayTestBatch([[x, y, 2.5] for x, y in inner], [[x, y, 0.005] for x, y in inner])
    solid = static | {d.id for d in sim.layout.devices} | {o.id for o in sim.layout.objects}
    assert [sim._body_entity.get(h[0]) for h in hits if sim._body_entity.get(h[0]) not in solid] == []


def _interior(grid, point) -> bool:
    """Occupied cell whose 8 neighbours are occupied too (boundary cells may straddle an edge)."""
    r, c = grid.world_to_cell(*point)
    return bool(grid.data[max(r - 1, 0): r + 2, max(c - 1, 0): c + 2].all())


def test_handover_gives_the_held_cup_to_the_person_only_within_reach(layout):
    with HomeSim(robots=("robot1",)) as world:
        world.teleport_robot("robot1", PICK_POSE)
        world.step(0.2)
        assert world.grasp_at("robot1", layout.object_by_id("cup_red").position)
        world.arm_home("robot1")
        hand = world.person_hand_position("user")
        world.teleport_robot("robot1", Pose2D(hand[0], hand[1] - 0.55, math.pi / 2))
        world.step(0.2)
        assert not world.handover("robot1", "user")  # arm still folded: the person cannot take it
        assert world.arm_move_to("robot1", hand, tolerance=0.05)
        assert world.handover("robot1", "user")
        cup = world.scene_graph().get("cup_red")
        assert cup.held_by == "user" and cup.room == "living_room"
        assert world.held_object("robot1") is None
