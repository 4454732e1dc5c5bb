"""Point-to-point navigation in the PyBullet home as a Gymnasium ``Env`` (the reflex policy's real test).

Observation: the 77-vector of ``edge_agent.observation`` (min-pooled lidar sectors, local goal in the
robot frame, measured velocity), built from the simulated 360-beam lidar exactly as the ROS reflex node
builds it. Action: (v, omega) within the observation spec's limits (spaces from
``edge_agent.training.nav_episode``, shared with the 2D training world).

The local goal is chosen the way the deployed stack chooses it (``local_goal="route"``, the default):
the executive's ``navigate_to`` plans A* (``edge_agent.astar.GridPlanner``) on the robot's own map (the
static occupancy grid plus the floor objects and people the scene graph knows, ``planning_grid``) and
the ``edge_agent.waypoint_follower.WaypointFollower`` hands the reflex one waypoint at a time, with the
same follower tuning as ``edge_agent.skills.ros_robot`` and one re-plan from where the follower reports
STUCK (as ``drive_to`` does). Until 2026-11 the env handed the policy the next doorway on the shortest
route, then the final goal (``local_goal="doorways"``, kept for comparison): a memoryless reflex then
deadlocked behind large furniture that the stack's A* route would have led it around. Only the local
goal changed: the episode (layout, start and goal sampling, person, success radius, time limit,
shortest path) is the same as before for every seed, so figures stay comparable.

Each ``reset(seed=...)`` builds a fresh ``HomeSim`` from a seeded layout variant (object jitter,
floor clutter), puts the robot at a random free start and samples a reachable goal at least 2 m away
(``goal_at_furniture``: the pose ``navigate_to`` would stand the robot at to reach a random piece of
furniture, object or device, driven to as ``drive_to`` drives there);
a person walks back and forth in one of the rooms and yields to the robot. An episode ends on success
(within 0.2 m of the goal), on any contact of the robot's body (collision), or at the time limit.
``info`` has ``collision``, ``success``, ``path_length``, ``shortest_path_length`` (string-pulled A*
on the inflated grid), ``time_s`` and ``replans``; ``privileged()`` gives the teachers the full state
(the true pose, the full grid with clutter, the person, the final goal) and the same local goal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import gymnasium as gym
import numpy as np

from edge_agent import observation as spec
from edge_agent.astar import GridPlanner, NoPathError
from edge_agent.skills.navigation import FURNITURE_STANDOFF_M, PRE_APPROACH_M, planning_grid
from edge_agent.training.nav_episode import (
    LOCAL_GOAL_MODES,
    EpisodeTally,
    RouteFollowing,
    StackLocalGoal,
    action_space,
    advance_doorway_waypoints,
    doorway_waypoints,
    observation_space,
    point_segment_distance,
    time_limit_s,
)
from edge_agent.training.privileged import OccupancyGrid as PrivilegedGrid
from edge_agent.training.privileged import PrivilegedState, ScanSnapshot
from reflexarc.occupancy_grid import OccupancyGrid, OrientedBox
from reflexarc.scene_graph import Pose2D
from sim.grid_path import astar, path_length, shortcut_path
from sim.home_layout import HomeLayout, load_home_layout
from sim.home_sim import HomeSim
from sim.sensors import LaserScanData, LidarConfig

__all__ = ["LOCAL_GOAL_MODES", "HomeNavConfig", "HomeNavEnv"]



@dataclass(frozen=True)
class HomeNavConfig:
    """Task parameters (matching the 2D training world where they overlap)."""

    robot_id: str = "robot1"
    control_dt: float = 0.1
    success_radius: float = 0.2
    min_start_goal_m: float = 2.0
    goal_clearance_m: float = 0.25
    goal_at_furniture: bool = False
    """Goals as ``navigate_to`` picks them for a piece of furniture, an object or a device of the scene:
    the standing pose ``FURNITURE_STANDOFF_M`` from it, the last leg driven straight at it from
    ``PRE_APPROACH_M`` away, and the reflex's goal ``approach_overshoot_m`` past the pose."""
    approach_overshoot_m: float = 0.09
    """How far past the standing pose the reflex's last goal lies: ``RosRobot.drive_path`` moves it on by
    the reflex's goal tolerance (0.15 m) less 0.06 m, so the robot stops on the pose, not short of it."""
    time_limit_slack_s: float = 20.0
    waypoint_overshoot_m: float = 0.2
    with_person: bool = True
    person_radius: float = 0.3
    person_speed: tuple[float, float] = (0.3, 0.8)
    randomize_layout: bool = True
    lidar_noise_m: float = 0.01
    local_goal: str = "route"
    following: RouteFollowing = RouteFollowing()

    def __post_init__(self) -> None:
        if self.local_goal not in LOCAL_GOAL_MODES:
            raise ValueError(f"local_goal must be one of {LOCAL_GOAL_MODES}, got {self.local_goal!r}")


class HomeNavEnv(gym.Env):
    """Point-to-point navigation of one robot in the simulated home (Gymnasium API)."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 10}

    def __init__(self, config: HomeNavConfig | None = None, layout: HomeLayout | None = None,
                 render_mode: str | None = None) -> None:
        """Create the env; the simulation is built on ``reset``."""
        self.config = config or HomeNavConfig()
        self.render_mode = render_mode
        self._base_layout = layout if layout is not None else load_home_layout()
        self.observation_space = observation_space()
        self.action_space = action_space()
        self.sim: HomeSim | None = None
        self._scan: LaserScanData | None = None
        self.route: StackLocalGoal | None = None
        self.waypoints: list = []
        self._face: tuple[float, float] | None = None
        """With ``goal_at_furniture``: what the episode's standing pose faces."""

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
        shortest = path_length(path)
        self.waypoints = doorway_waypoints(
            path, ((d.center, d.normal, d.width / 2) for d in sim.layout.doorways), cfg.waypoint_overshoot_m)
        self._person = self._sample_person(rng, start, goal) if cfg.with_person else None
        sim.step(cfg.control_dt)
        self.tally = EpisodeTally(shortest, time_limit_s(shortest, cfg.time_limit_slack_s))
        self._last_xy = np.array(start, dtype=np.float64)
        self.route = None
        if cfg.local_goal == "route":
            # The robot's own map: the static grid plus the floor objects and people its scene graph knows.
            approach, route_goal = None, tuple(goal)
            if self._face is not None:  # planned now, on the map with the person where they stand, as drive_to does
                approach, route_goal = self._furniture_leg_to(self._stack_planner(), goal, self._face)
            self.route = StackLocalGoal(lambda: planning_grid(sim.occupancy_grid(), sim.scene_graph()),
                                        self.robot_radius, route_goal, cfg.success_radius, cfg.following, approach)
            self.route.start(self._last_xy, self.tally.time_s)
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
        self.tally.time_s += cfg.control_dt
        pose = sim.robot_pose(cfg.robot_id)
        xy = np.array([pose.x, pose.y])
        self.tally.path_length += float(np.hypot(*(xy - self._last_xy)))
        self._last_xy = xy
        collision = len(sim.collision_log) > collisions_before or bool(sim.contacts(cfg.robot_id, base_only=True))
        if self.route is not None:
            self.route.update(xy, self.tally.time_s)
        else:
            advance_doorway_waypoints(self.waypoints, xy)
        distance = float(np.hypot(*(self.goal - xy)))
        success = (not collision) and distance <= cfg.success_radius
        reward = (self._distance - distance) + (10.0 if success else 0.0) - (10.0 if collision else 0.0)
        self._distance = distance
        terminated = collision or success
        truncated = (not terminated) and self.tally.out_of_time()
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
    @property
    def time_s(self) -> float:
        """Simulated time since the episode started."""
        return self.tally.time_s

    @property
    def path_length(self) -> float:
        """Distance the robot has driven this episode."""
        return self.tally.path_length

    @property
    def shortest_path_length(self) -> float:
        """Length of the shortest path from the start to the goal (the SPL reference)."""
        return self.tally.shortest_path_length

    def local_goal(self) -> np.ndarray:
        """The goal the observation refers to: the follower's waypoint on the A* route (or the next doorway)."""
        if self.route is not None:
            return self.route.goal
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
        return {**self.tally.info(collision, success), "replans": self.route.replans if self.route else 0}

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

    def _furniture_leg_to(self, planner: GridPlanner, goal, face) -> tuple[tuple[float, float] | None, tuple[float, float]]:
        """``drive_to``'s last leg to a standing pose facing ``face``: (pre-approach point or None, reflex's last goal).

        The pre-approach point lies ``PRE_APPROACH_M`` behind the pose when that straight leg is free; the
        reflex's last goal lies ``approach_overshoot_m`` past the pose, on toward ``face``.
        """
        dx, dy = face[0] - goal[0], face[1] - goal[1]
        length = math.hypot(dx, dy)
        ux, uy = (dx / length, dy / length) if length > 1e-9 else (0.0, 0.0)
        pre = (goal[0] - PRE_APPROACH_M * ux, goal[1] - PRE_APPROACH_M * uy)
        if not (planner.is_free(pre) and planner.segment_is_free(pre, tuple(goal))):
            pre = None
        extend = self.config.approach_overshoot_m
        return pre, (float(goal[0] + ux * extend), float(goal[1] + uy * extend))

    def _stack_planner(self) -> GridPlanner:
        """The executive's planner on the robot's map (static grid plus what its scene graph knows)."""
        return GridPlanner(planning_grid(self.sim.occupancy_grid(), self.sim.scene_graph()), self.robot_radius)

    def _furniture_targets(self) -> list[tuple[float, float]]:
        """Positions of what ``navigate_to`` can be sent to that is not a room, person or dock."""
        graph = self.sim.scene_graph()
        targets = [(f.pose.x, f.pose.y) for f in graph.furniture]
        targets += [tuple(o.position[:2]) for o in graph.objects if not o.held_by]
        targets += [tuple(d.position[:2]) for d in graph.devices if d.kind != "dock"]
        return [(float(x), float(y)) for x, y in targets]

    def _sample_task(self, rng: np.random.Generator):
        cfg = self.config
        cells = self._free_cells(cfg.goal_clearance_m)
        person = self.sim.layout.people[0] if self.sim.layout.people else None
        targets = self._furniture_targets() if cfg.goal_at_furniture else []
        planner = self._stack_planner() if targets else None
        self._face = None
        for _ in range(200):
            s_cell, g_cell = cells[rng.integers(len(cells))], cells[rng.integers(len(cells))]
            start = self.grid.cell_to_world(int(s_cell[0]), int(s_cell[1]))
            goal = self.grid.cell_to_world(int(g_cell[0]), int(g_cell[1]))
            if targets:
                face = targets[int(rng.integers(len(targets)))]
                try:
                    pose = planner.standing_pose_near(face, FURNITURE_STANDOFF_M, from_xy=start)
                except NoPathError:
                    continue
                goal, self._face = (pose.x, pose.y), face
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
            if min(point_segment_distance(np.asarray(goal), a, b), point_segment_distance(np.asarray(start), a, b)) < 0.9:
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

