"""Point-to-point navigation in the PyBullet home as a Gymnasium ``Env`` (the reflex policy's real test).

Observation: the 77-vector of ``edge_agent.observation`` (min-pooled lidar sectors, local goal in the
robot frame, measured velocity), built from the simulated 360-beam lidar exactly as the ROS reflex node
builds it. Action: (v, omega) within the observation spec's limits. The local goal is the next doorway
on the shortest route (overshot by 0.2 m), then the goal itself, as in the 2D training world, so the
same policies, teachers and metrics run unchanged here.

Each ``reset(seed=...)`` builds a fresh ``HomeSim`` from a seeded layout variant (object jitter,
floor clutter), puts the robot at a random free start and samples a reachable goal at least 2 m away;
a person walks back and forth in one of the rooms and yields to the robot. An episode ends on success
(within 0.2 m of the goal), on any contact of the robot's body (collision), or at the time limit.
``info`` has ``collision``, ``success``, ``path_length``, ``shortest_path_length`` (string-pulled A*
on the inflated grid) and ``time_s``; ``privileged()`` gives the teachers the full state.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import gymnasium as gym
import numpy as np

from edge_agent import observation as spec
from edge_agent.training.privileged import OccupancyGrid as PrivilegedGrid
from edge_agent.training.privileged import PrivilegedState, ScanSnapshot
from reflexarc.occupancy_grid import OccupancyGrid, OrientedBox
from reflexarc.scene_graph import Pose2D
from sim.grid_path import astar, path_length, shortcut_path
from sim.home_layout import HomeLayout, load_home_layout
from sim.home_sim import HomeSim
from sim.sensors import LaserScanData, LidarConfig

__all__ = ["HomeNavConfig", "HomeNavEnv"]


@dataclass(frozen=True)
class HomeNavConfig:
    """Task parameters (matching the 2D training world where they overlap)."""

    robot_id: str = "robot1"
    control_dt: float = 0.1
    success_radius: float = 0.2
    min_start_goal_m: float = 2.0
    goal_clearance_m: float = 0.25
    time_limit_slack_s: float = 20.0
    waypoint_overshoot_m: float = 0.2
    with_person: bool = True
    person_radius: float = 0.3
    person_speed: tuple[float, float] = (0.3, 0.8)
    randomize_layout: bool = True
    lidar_noise_m: float = 0.01


class HomeNavEnv(gym.Env):
    """Point-to-point navigation of one robot in the simulated home (Gymnasium API)."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 10}

    def __init__(self, config: HomeNavConfig | None = None, layout: HomeLayout | None = None,
                 render_mode: str | None = None) -> None:
        """Create the env; the simulation is built on ``reset``."""
        self.config = config or HomeNavConfig()
        self.render_mode = render_mode
        self._base_layout = layout if layout is not None else load_home_layout()
        self.observation_space = gym.spaces.Box(-1.0, 1.0, shape=(spec.OBS_DIM,), dtype=np.float32)
        self.action_space = gym.spaces.Box(
            np.array([spec.V_MIN, -spec.W_MAX], dtype=np.float32),
            np.array([spec.V_MAX, spec.W_MAX], dtype=np.float32),
            dtype=np.float32,
        )
        self.sim: HomeSim | None = None
        self._scan: LaserScanData | None = None

    # ------------------------------------------------------------------------------- episode
    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        """Build a seeded home, place the robot and a walking person, pick a reachable goal."""
        super().reset(seed=seed)
        rng = self.np_random
        cfg = self.config
        if self.sim is not None:
            self.sim.close()
        layout_seed = int(rng.integers(1, 2**31 - 1)) if cfg.randomize_layout else 0
        self.sim = HomeSim(
            layout=self._base_layout, seed=layout_seed, robots=(cfg.robot_id,),
            lidar=LidarConfig(noise_sigma=cfg.lidar_noise_m), track_coverage=False,
        )
        sim = self.sim
        self.robot_radius = sim.robot_radius(cfg.robot_id)
        self.grid = self._task_grid()
        self._nav = self.grid.inflate(self.robot_radius)
        # one object per episode: teachers cache their map analysis on the grid's identity
        self._privileged_grid = PrivilegedGrid(data=self.grid.data, resolution=self.grid.resolution,
                                               origin_xy=self.grid.origin_xy)
        start, yaw, goal, path = self._sample_task(rng)
        sim.teleport_robot(cfg.robot_id, Pose2D(start[0], start[1], yaw))
        self.goal = np.asarray(goal, dtype=np.float64)
        self.shortest_path = path
        self.shortest_path_length = path_length(path)
        self.waypoints = self._route_waypoints(path)
        self._person = self._sample_person(rng, start, goal) if cfg.with_person else None
        sim.step(cfg.control_dt)
        self.time_s = 0.0
        self.path_length = 0.0
        self.time_limit_s = 2.5 * self.shortest_path_length / spec.V_MAX + cfg.time_limit_slack_s
        self._last_xy = np.array(start, dtype=np.float64)
        self._distance = float(np.hypot(*(self.goal - self._last_xy)))
        self._scan = sim.scan(cfg.robot_id)
        return self._observation(), self._info(False, False)

    def step(self, action) -> tuple[np.ndarray, float, bool, bool, dict]:
        """Apply (v, omega) for one control period."""
        if self.sim is None:
            raise RuntimeError("call reset() before step()")
        cfg = self.config
        sim = self.sim
        v, w = spec.clip_action(float(action[0]), float(action[1]))
        sim.set_cmd_vel(cfg.robot_id, v, w)
        collisions_before = len(sim.collision_log)
        self._move_person()
        sim.step(cfg.control_dt)
        self.time_s += cfg.control_dt
        pose = sim.robot_pose(cfg.robot_id)
        xy = np.array([pose.x, pose.y])
        self.path_length += float(np.hypot(*(xy - self._last_xy)))
        self._last_xy = xy
        collision = len(sim.collision_log) > collisions_before or bool(sim.contacts(cfg.robot_id, base_only=True))
        self._advance_waypoints(xy)
        distance = float(np.hypot(*(self.goal - xy)))
        success = (not collision) and distance <= cfg.success_radius
        reward = (self._distance - distance) + (10.0 if success else 0.0) - (10.0 if collision else 0.0)
        self._distance = distance
        terminated = collision or success
        truncated = (not terminated) and self.time_s >= self.time_limit_s - 1e-9
        if terminated or truncated:
            sim.set_cmd_vel(cfg.robot_id, 0.0, 0.0)
        self._scan = sim.scan(cfg.robot_id)
        return self._observation(), float(reward), terminated, truncated, self._info(collision, success)

    def close(self) -> None:
        """Shut the simulation down."""
        if self.sim is not None:
            self.sim.close()
            self.sim = None

    def render(self) -> np.ndarray | None:
        """The robot's camera image (``rgb_array``)."""
        if self.render_mode != "rgb_array" or self.sim is None:
            return None
        return self.sim.camera(self.config.robot_id).rgb

    # ------------------------------------------------------------------------- what policies see
    def local_goal(self) -> np.ndarray:
        """The goal the observation refers to: the next doorway waypoint, else the final goal."""
        return self.waypoints[0][0] if self.waypoints else self.goal

    def scan(self) -> ScanSnapshot:
        """The current raw lidar scan (what the shield filters on)."""
        s = self._scan
        return ScanSnapshot(s.ranges, s.angle_min, s.angle_increment, s.range_min, s.range_max)

    def privileged(self) -> PrivilegedState:
        """Full state for the privileged teachers (true pose, static grid with clutter, the person)."""
        sim = self.sim
        pose = sim.robot_pose(self.config.robot_id)
        odom = sim.odometry(self.config.robot_id)
        if self._person is not None:
            p = self._person
            dyn = np.array([[p["xy"][0], p["xy"][1], self.config.person_radius, p["v"][0], p["v"][1]]])
        else:
            dyn = np.zeros((0, 5))
        return PrivilegedState(
            pose=(pose.x, pose.y, pose.yaw),
            velocity=(odom.v, odom.w),
            goal_xy=tuple(float(c) for c in self.local_goal()),
            grid=self._privileged_grid,
            dynamic_obstacles=dyn,
            robot_radius=self.robot_radius,
            scan=self.scan(),
            final_goal_xy=(float(self.goal[0]), float(self.goal[1])),
        )

    def _observation(self) -> np.ndarray:
        s = self._scan
        sectors = spec.scan_to_sectors(s.ranges, s.angle_min, s.angle_increment, s.range_min, s.range_max)
        pose = self.sim.robot_pose(self.config.robot_id)
        odom = self.sim.odometry(self.config.robot_id)
        goal_rf = spec.goal_in_robot_frame((pose.x, pose.y, pose.yaw), tuple(self.local_goal()))
        return spec.build_observation(sectors, goal_rf, (odom.v, odom.w))

    def _info(self, collision: bool, success: bool) -> dict:
        return {
            "collision": bool(collision),
            "success": bool(success),
            "path_length": float(self.path_length),
            "shortest_path_length": float(self.shortest_path_length),
            "time_s": float(self.time_s),
        }

    # ----------------------------------------------------------------------------- task set-up
    def _task_grid(self) -> OccupancyGrid:
        """Static grid plus the movable objects lying on the floor at the start (clutter is an obstacle)."""
        sim = self.sim
        boxes = []
        for obj in sim.scene_graph().objects:
            if not obj.on and not obj.held_by and obj.position[2] < 0.4:
                spec_obj = sim.layout.object_by_id(obj.id) if obj.id in {o.id for o in sim.layout.objects} else None
                r = spec_obj.radius if spec_obj is not None else 0.1
                boxes.append(OrientedBox(obj.position[0], obj.position[1], 2 * r, 2 * r))
        return sim.occupancy_grid().with_boxes(boxes)

    def _free_cells(self, clearance: float) -> np.ndarray:
        inflated = self.grid.inflate(self.robot_radius + clearance)
        free = inflated.data == 0
        layout = self.sim.layout
        gx, gy = inflated.cell_centres()
        inside = np.zeros_like(free)
        for room in layout.rooms:
            xs, ys = np.array(room.polygon).T
            inside |= (gx > xs.min()) & (gx < xs.max()) & (gy > ys.min()) & (gy < ys.max())
        return np.argwhere(free & inside)

    def _sample_task(self, rng: np.random.Generator):
        cfg = self.config
        cells = self._free_cells(cfg.goal_clearance_m)
        person = self.sim.layout.people[0] if self.sim.layout.people else None
        for _ in range(200):
            s_cell, g_cell = cells[rng.integers(len(cells))], cells[rng.integers(len(cells))]
            start = self.grid.cell_to_world(int(s_cell[0]), int(s_cell[1]))
            goal = self.grid.cell_to_world(int(g_cell[0]), int(g_cell[1]))
            if math.dist(start, goal) < cfg.min_start_goal_m:
                continue
            if person is not None and min(math.dist(start, (person.pose.x, person.pose.y)),
                                          math.dist(goal, (person.pose.x, person.pose.y))) < 0.9:
                continue
            path = shortcut_path(self._nav, astar(self._nav, start, goal))
            if path is None:
                continue
            return start, float(rng.uniform(-math.pi, math.pi)), goal, path
        raise RuntimeError("could not sample a reachable start and goal")

    def _route_waypoints(self, path: list[tuple[float, float]]) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, float]]:
        """Doorways the shortest path crosses, in order: (target point, centre, crossing direction, half width)."""
        crossings = []
        travelled = 0.0
        for a, b in zip(path[:-1], path[1:], strict=False):
            a, b = np.asarray(a), np.asarray(b)
            seg = b - a
            for door in self.sim.layout.doorways:
                c, n = np.asarray(door.center), np.asarray(door.normal)
                sa, sb = float(np.dot(a - c, n)), float(np.dot(b - c, n))
                if sa * sb >= 0.0 or sa == sb:
                    continue
                t = sa / (sa - sb)
                p = a + t * seg
                tangent = np.array([-n[1], n[0]])
                if abs(float(np.dot(p - c, tangent))) <= door.width / 2 + 0.05:
                    direction = n if sb > sa else -n
                    crossings.append((travelled + t * float(np.hypot(*seg)), c, direction, door.width / 2))
            travelled += float(np.hypot(*seg))
        crossings.sort(key=lambda item: item[0])
        return [(c + self.config.waypoint_overshoot_m * d, c, d, hw) for _, c, d, hw in crossings]

    def _advance_waypoints(self, xy: np.ndarray) -> None:
        while self.waypoints:
            target, centre, normal, half_width = self.waypoints[0]
            rel = xy - centre
            passed = float(np.dot(rel, normal)) > 0.0 and abs(float(np.dot(rel, [-normal[1], normal[0]]))) < half_width + 0.3
            if passed or float(np.hypot(*(xy - target))) < 0.15:
                self.waypoints.pop(0)
            else:
                break

    # ------------------------------------------------------------------------------ the person
    def _sample_person(self, rng: np.random.Generator, start, goal) -> dict | None:
        """A person walking between two free points of one room, away from the start and the goal."""
        cfg = self.config
        sim = self.sim
        if not sim.layout.people:
            return None
        clear = self.grid.inflate(cfg.person_radius + 0.1)
        rooms = [r for r in sim.layout.rooms if r.id not in sim.layout.outside_rooms]
        for _ in range(60):
            room = rooms[int(rng.integers(len(rooms)))]
            xs, ys = np.array(room.polygon).T
            a = np.array([rng.uniform(xs.min() + 0.5, xs.max() - 0.5), rng.uniform(ys.min() + 0.5, ys.max() - 0.5)])
            b = np.array([rng.uniform(xs.min() + 0.5, xs.max() - 0.5), rng.uniform(ys.min() + 0.5, ys.max() - 0.5)])
            if np.hypot(*(b - a)) < 1.5:
                continue
            t = np.linspace(0.0, 1.0, 40)[:, None]
            line = a + t * (b - a)
            if clear.occupied_at(line[:, 0], line[:, 1]).any():
                continue
            if min(_point_segment_distance(np.asarray(goal), a, b), _point_segment_distance(np.asarray(start), a, b)) < 0.9:
                continue
            xy = a + float(rng.uniform()) * (b - a)
            person = {"id": sim.layout.people[0].id, "a": a, "b": b, "xy": xy, "v": np.zeros(2),
                      "speed": float(rng.uniform(*cfg.person_speed)), "to_b": bool(rng.random() < 0.5), "waited": 0.0}
            heading = (b - a) if person["to_b"] else (a - b)
            sim.move_person(Pose2D(float(xy[0]), float(xy[1]), math.atan2(heading[1], heading[0])),
                            person_id=person["id"], posture="standing")
            return person
        return None

    def _move_person(self) -> None:
        p = self._person
        if p is None:
            return
        dt = self.config.control_dt
        target = p["b"] if p["to_b"] else p["a"]
        offset = target - p["xy"]
        dist = float(np.hypot(*offset))
        if dist < 1e-6:
            p["to_b"] = not p["to_b"]
            p["v"] = np.zeros(2)
            return
        heading = offset / dist
        pose = self.sim.robot_pose(self.config.robot_id)
        to_robot = np.array([pose.x, pose.y]) - p["xy"]
        if float(np.hypot(*to_robot)) < 0.9 + self.robot_radius and float(np.dot(to_robot, heading)) > 0.0:
            p["v"] = np.zeros(2)  # people yield to a robot in front of them, then turn back
            p["waited"] += dt
            if p["waited"] >= 1.5:
                p["to_b"] = not p["to_b"]
                p["waited"] = 0.0
            return
        p["waited"] = 0.0
        step = min(dist, p["speed"] * dt)
        p["v"] = heading * (step / dt)
        p["xy"] = p["xy"] + heading * step
        self.sim.walk_person(p["xy"], math.atan2(heading[1], heading[0]), person_id=p["id"])


def _point_segment_distance(p: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    ab = b - a
    t = float(np.clip(np.dot(p - a, ab) / max(float(np.dot(ab, ab)), 1e-12), 0.0, 1.0))
    return float(np.hypot(*(p - (a + t * ab))))
