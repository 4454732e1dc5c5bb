"""A fast numpy 2D home world for training and evaluating the reflex policy (a Gymnasium ``Env``).

Each ``reset(seed=...)`` draws a new home (see :mod:`edge_agent.training.layout`), a start and a goal
with a collision-free path between them, and a walking person. The robot is a differential-drive disc
with acceleration limits; its lidar is ray-cast exactly against the geometry (360 beams, 1 cm noise)
and turned into the shared 77-element observation.

The goal in the observation is the *local* goal: by default (``local_goal="doorways"``, what training
uses, so ``train-policy --seed 0`` stays reproducible) the next doorway on the room-level route, then
the final goal. The reflex is a memoryless controller; it is not asked to find a way around walls it
cannot see past. ``local_goal="route"`` hands it what the deployed stack hands it instead: the waypoint
follower's current waypoint on an A* route over the robot's map (the home's grid, clutter included,
plus the person where they stand when planning), see :class:`~edge_agent.training.nav_episode.StackLocalGoal`;
the evaluation uses that. The episode (home, start, goal, person, limits) is the same in both modes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import gymnasium as gym
import numpy as np

from edge_agent import observation as spec
from edge_agent.training.geometry import (
    cast_rays,
    distance_to_circles,
    distance_to_segments,
    segment_clearance,
)
from edge_agent.training.layout import HomeLayout, generate_layout
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
from edge_agent.training.navmap import NavMap, polyline_length
from edge_agent.training.privileged import OccupancyGrid, PrivilegedState, ScanSnapshot
from reflexarc import occupancy_grid as robot_map

_BEAM_OFFSETS = spec.LIDAR_ANGLE_MIN + spec.LIDAR_ANGLE_INCREMENT * np.arange(spec.LIDAR_BEAMS)


@dataclass(frozen=True)
class World2DConfig:
    """Physical and task parameters of the 2D world."""

    dt: float = 0.1
    robot_radius: float = spec.ROBOT_RADIUS_M
    accel_v: float = spec.ACCEL_V
    accel_w: float = spec.ACCEL_W
    grid_resolution: float = 0.05
    lidar_noise_m: float = 0.01
    success_radius: float = 0.2
    person_radius: tuple[float, float] = (0.2, 0.3)
    person_speed: tuple[float, float] = (0.3, 0.9)
    with_person: bool = True
    clutter_per_room: tuple[int, int] = (0, 4)
    min_start_goal_m: float = 2.0
    goal_clearance_m: float = 0.25
    beside_obstacle_goals: float = 0.0
    """Share of episodes whose goal stands ``beside_obstacle_clearance_m`` from an obstacle (a 7 cm band),
    as ``navigate_to`` stands a robot at furniture; the others keep ``goal_clearance_m``."""
    beside_obstacle_clearance_m: float = 0.1
    time_limit_slack_s: float = 20.0
    waypoint_overshoot_m: float = 0.2
    local_goal: str = "doorways"
    following: RouteFollowing = RouteFollowing()
    planning_person_size_m: float = 0.7

    def __post_init__(self) -> None:
        if self.local_goal not in LOCAL_GOAL_MODES:
            raise ValueError(f"local_goal must be one of {LOCAL_GOAL_MODES}, got {self.local_goal!r}")
        if not 0.0 <= self.beside_obstacle_goals <= 1.0:
            raise ValueError(f"beside_obstacle_goals must lie in [0, 1], got {self.beside_obstacle_goals}")


BESIDE_OBSTACLE_BAND_M = 0.07
"""Width of the band of goal cells beside obstacles (``World2DConfig.beside_obstacle_goals``)."""


@dataclass
class _Person:
    """A person walking back and forth between two points, yielding to a robot in front of them."""

    a: np.ndarray
    b: np.ndarray
    radius: float
    speed: float
    position: np.ndarray
    heading_to_b: bool
    velocity: np.ndarray
    waited_s: float = 0.0


def rasterize(layout: HomeLayout, resolution: float) -> OccupancyGrid:
    """Conservative occupancy grid of the static geometry: every cell a wall, leg or item touches.

    Segments are sampled every third of a cell and mark the cells they pass through; circles mark every
    cell whose centre is within ``radius + 0.71 * resolution``; solid rectangles are filled.
    """
    margin = 0.25
    ox, oy = -margin, -margin
    w = int(math.ceil((layout.width + 2 * margin) / resolution))
    h = int(math.ceil((layout.height + 2 * margin) / resolution))
    occ = np.zeros((h, w), dtype=np.uint8)
    segs = layout.segments
    if segs.shape[0]:
        lengths = np.hypot(segs[:, 2] - segs[:, 0], segs[:, 3] - segs[:, 1])
        counts = np.ceil(lengths / (resolution / 3.0)).astype(np.int64) + 1
        owner = np.repeat(np.arange(segs.shape[0]), counts)
        starts = np.cumsum(counts) - counts
        t = (np.arange(counts.sum()) - np.repeat(starts, counts)) / np.repeat(counts - 1, counts)
        xs = segs[owner, 0] + t * (segs[owner, 2] - segs[owner, 0])
        ys = segs[owner, 1] + t * (segs[owner, 3] - segs[owner, 1])
        cols = np.clip(np.floor((xs - ox) / resolution).astype(np.int64), 0, w - 1)
        rows = np.clip(np.floor((ys - oy) / resolution).astype(np.int64), 0, h - 1)
        occ[rows, cols] = 1
    tol = resolution * 0.71
    for cx, cy, r in layout.circles:
        reach = r + tol
        c0, c1 = max(int((cx - reach - ox) / resolution), 0), min(int((cx + reach - ox) / resolution) + 1, w)
        r0, r1 = max(int((cy - reach - oy) / resolution), 0), min(int((cy + reach - oy) / resolution) + 1, h)
        xc = ox + (np.arange(c0, c1) + 0.5) * resolution
        yc = oy + (np.arange(r0, r1) + 0.5) * resolution
        inside = np.hypot(xc[None, :] - cx, yc[:, None] - cy) <= reach
        occ[r0:r1, c0:c1] |= inside.astype(np.uint8)
    for cx, cy, hw, hh in layout.solid_rects:
        c0, c1 = int(np.floor((cx - hw - ox) / resolution)), int(np.floor((cx + hw - ox) / resolution)) + 1
        r0, r1 = int(np.floor((cy - hh - oy) / resolution)), int(np.floor((cy + hh - oy) / resolution)) + 1
        occ[max(r0, 0):min(r1, h), max(c0, 0):min(c1, w)] = 1
    # Everything outside the outline is off limits.
    xs_c = ox + (np.arange(w) + 0.5) * resolution
    ys_c = oy + (np.arange(h) + 0.5) * resolution
    occ[:, (xs_c < 0) | (xs_c > layout.width)] = 1
    occ[(ys_c < 0) | (ys_c > layout.height), :] = 1
    return OccupancyGrid(data=occ, resolution=resolution, origin_xy=(ox, oy))


class World2DEnv(gym.Env):
    """Point-to-point navigation in a random home with a walking person (Gymnasium API).

    ``info`` carries ``collision``, ``success``, ``path_length``, ``shortest_path_length`` and
    ``time_s``; :meth:`privileged` exposes the full state for the teachers.
    """

    metadata = {"render_modes": []}

    def __init__(self, config: World2DConfig | None = None) -> None:
        """Create an unseeded world; call ``reset(seed=...)`` before stepping."""
        self.config = config or World2DConfig()
        self.observation_space = observation_space()
        self.action_space = action_space()
        self.layout: HomeLayout | None = None
        self.navmap: NavMap | None = None
        self.route: StackLocalGoal | None = None

    # ----------------------------------------------------------------------------------------- setup
    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        """Draw a new home, start, goal and person; returns the first observation and info."""
        super().reset(seed=seed)
        rng = self.np_random
        cfg = self.config
        # drawn only when asked for, so every seed's episode is unchanged without beside-obstacle goals
        beside = cfg.beside_obstacle_goals > 0.0 and bool(rng.random() < cfg.beside_obstacle_goals)
        for _attempt in range(50):
            layout = generate_layout(rng, clutter_per_room=cfg.clutter_per_room)
            grid = rasterize(layout, cfg.grid_resolution)
            navmap = NavMap(grid, cfg.robot_radius)
            task = self._sample_task(rng, layout, navmap, beside)
            if task is not None:
                break
        else:
            raise RuntimeError("could not sample a navigable task in 50 homes")
        self.layout, self.grid, self.navmap = layout, grid, navmap
        start, yaw, goal, path = task
        self.pose = np.array([start[0], start[1], yaw])
        self.velocity = np.zeros(2)
        self.goal = np.asarray(goal, dtype=np.float64)
        self.shortest_path = path
        shortest = polyline_length(path)
        self.waypoints = doorway_waypoints(path, ((d.centre, d.normal, d.half_width) for d in layout.doors),
                                           cfg.waypoint_overshoot_m)
        self.person = self._sample_person(rng, layout, navmap, start, goal) if cfg.with_person else None
        self.tally = EpisodeTally(shortest, time_limit_s(shortest, cfg.time_limit_slack_s))
        self.steps = 0
        self.route = None
        if cfg.local_goal == "route":
            self.route = StackLocalGoal(self._robot_map, cfg.robot_radius, tuple(self.goal), cfg.success_radius,
                                        cfg.following)
            self.route.start(self.pose[:2], self.tally.time_s)
        self._goal_field = navmap.cost_to_go(tuple(self.goal), hard=True)
        self._progress = float(navmap.field_value(self._goal_field, self.pose[:2]))
        self._scan = self._cast_scan()
        return self._observation(), self._info(collision=False, success=False)

    def _sample_task(self, rng: np.random.Generator, layout: HomeLayout, navmap: NavMap, beside: bool = False):
        cfg = self.config
        free = np.argwhere(navmap.clearance >= cfg.robot_radius + cfg.goal_clearance_m)
        if len(free) < 10:
            return None
        goals = free
        if beside:
            near = cfg.robot_radius + cfg.beside_obstacle_clearance_m
            goals = np.argwhere((navmap.clearance >= near) & (navmap.clearance < near + BESIDE_OBSTACLE_BAND_M))
            if len(goals) < 10:
                return None
        for _ in range(20):
            s_cell, g_cell = free[rng.integers(len(free))], goals[rng.integers(len(goals))]
            start = np.array(navmap.grid.cell_centre(*s_cell))
            goal = np.array(navmap.grid.cell_centre(*g_cell))
            if np.hypot(*(goal - start)) < cfg.min_start_goal_m:
                continue
            path = navmap.shortest_path(tuple(start), tuple(goal))
            if path is None:
                continue
            return start, float(rng.uniform(-math.pi, math.pi)), goal, path
        return None

    def _sample_person(self, rng, layout: HomeLayout, navmap: NavMap, start, goal) -> _Person | None:
        cfg = self.config
        r = float(rng.uniform(*cfg.person_radius))
        for _ in range(40):
            room = layout.rooms[int(rng.integers(len(layout.rooms)))]
            x0, y0, x1, y1 = room
            a = np.array([rng.uniform(x0 + 0.4, x1 - 0.4), rng.uniform(y0 + 0.4, y1 - 0.4)])
            b = np.array([rng.uniform(x0 + 0.4, x1 - 0.4), rng.uniform(y0 + 0.4, y1 - 0.4)])
            if np.hypot(*(b - a)) < 1.5:
                continue
            if segment_clearance(a, b, layout.segments, layout.circles) < r + 0.15:
                continue
            if min(point_segment_distance(goal, a, b), point_segment_distance(start, a, b)) < r + 0.6:
                continue
            frac = float(rng.uniform())
            pos = a + frac * (b - a)
            speed = float(rng.uniform(*cfg.person_speed))
            return _Person(a=a, b=b, radius=r, speed=speed, position=pos, heading_to_b=bool(rng.random() < 0.5),
                           velocity=np.zeros(2))
        return None

    # ------------------------------------------------------------------------------------------ step
    def step(self, action) -> tuple[np.ndarray, float, bool, bool, dict]:
        """Apply (v, omega) for one control period of ``dt`` seconds."""
        cfg = self.config
        v_cmd, w_cmd = spec.clip_action(float(action[0]), float(action[1]))
        dv = np.clip(v_cmd - self.velocity[0], -cfg.accel_v * cfg.dt, cfg.accel_v * cfg.dt)
        dw = np.clip(w_cmd - self.velocity[1], -cfg.accel_w * cfg.dt, cfg.accel_w * cfg.dt)
        self.velocity = self.velocity + np.array([dv, dw])
        v, w = self.velocity
        x, y, yaw = self.pose
        mid = yaw + 0.5 * w * cfg.dt
        nx, ny = x + v * cfg.dt * math.cos(mid), y + v * cfg.dt * math.sin(mid)
        self.pose = np.array([nx, ny, math.atan2(math.sin(yaw + w * cfg.dt), math.cos(yaw + w * cfg.dt))])
        self.tally.path_length += abs(v) * cfg.dt
        self.tally.time_s += cfg.dt
        self.steps += 1
        self._move_person()
        collision = self.robot_clearance() < 0.0
        if self.route is not None:
            self.route.update(self.pose[:2], self.tally.time_s)
        else:
            advance_doorway_waypoints(self.waypoints, self.pose[:2])
        success = (not collision) and float(np.hypot(*(self.goal - self.pose[:2]))) <= cfg.success_radius
        progress = float(self.navmap.field_value(self._goal_field, self.pose[:2]))
        reward = (self._progress - progress) if np.isfinite(progress) and np.isfinite(self._progress) else 0.0
        self._progress = progress
        reward += 10.0 if success else 0.0
        reward -= 10.0 if collision else 0.0
        terminated = collision or success
        truncated = (not terminated) and self.tally.out_of_time()
        self._scan = self._cast_scan()
        return self._observation(), float(reward), terminated, truncated, self._info(collision, success)

    def _move_person(self) -> None:
        person = self.person
        if person is None:
            return
        target = person.b if person.heading_to_b else person.a
        offset = target - person.position
        dist = float(np.hypot(*offset))
        if dist < 1e-6:
            person.heading_to_b = not person.heading_to_b
            person.velocity = np.zeros(2)
            return
        heading = offset / dist
        to_robot = self.pose[:2] - person.position
        # People yield: they stop when the robot is close in front of them; after a while they walk off
        # somewhere else rather than wait forever (a person would walk around a robot, not stare at it).
        if float(np.hypot(*to_robot)) < 0.9 and float(np.dot(to_robot, heading)) > 0.0:
            person.velocity = np.zeros(2)
            person.waited_s += self.config.dt
            if person.waited_s >= 1.5:
                self._person_walk_away(person, to_robot)
                person.waited_s = 0.0
            return
        person.waited_s = 0.0
        step = min(dist, person.speed * self.config.dt)
        person.velocity = heading * (step / self.config.dt)
        person.position = person.position + heading * step

    def _person_walk_away(self, person: _Person, to_robot: np.ndarray) -> None:
        """Give the person a new straight walk leading away from the robot (or turn back if none is clear)."""
        rng = self.np_random
        away = math.atan2(-to_robot[1], -to_robot[0])
        for _ in range(30):
            angle = away + float(rng.uniform(-1.6, 1.6))
            length = float(rng.uniform(0.6, 2.5))
            target = person.position + length * np.array([math.cos(angle), math.sin(angle)])
            if not (0.3 < target[0] < self.layout.width - 0.3 and 0.3 < target[1] < self.layout.height - 0.3):
                continue
            if point_segment_distance(self.goal, person.position, target) < person.radius + 0.6:
                continue  # nobody parks on the robot's goal
            if segment_clearance(person.position, target, self.layout.segments, self.layout.circles) >= person.radius + 0.1:
                person.a, person.b, person.heading_to_b = person.position.copy(), target, True
                return
        person.heading_to_b = not person.heading_to_b

    # ----------------------------------------------------------------------------------- observation
    def _circles(self) -> np.ndarray:
        if self.person is None:
            return self.layout.circles
        p = self.person
        return np.vstack([self.layout.circles, [p.position[0], p.position[1], p.radius]])

    def robot_clearance(self) -> float:
        """Exact distance from the robot's footprint to the nearest obstacle (negative when overlapping)."""
        pt = self.pose[None, :2]
        d = min(float(distance_to_segments(pt, self.layout.segments)[0]),
                float(distance_to_circles(pt, self._circles())[0]))
        return d - self.config.robot_radius

    def _cast_scan(self) -> np.ndarray:
        ranges = cast_rays(
            (self.pose[0], self.pose[1]),
            self.pose[2] + _BEAM_OFFSETS,
            self.layout.segments,
            self._circles(),
            spec.LIDAR_RANGE_MAX,
        )
        if self.config.lidar_noise_m > 0.0:
            ranges = ranges + self.np_random.normal(0.0, self.config.lidar_noise_m, size=ranges.shape)
        return ranges.astype(np.float32)

    def local_goal(self) -> np.ndarray:
        """The goal the observation refers to: the route's waypoint, or the next doorway, else the final goal."""
        if self.route is not None:
            return self.route.goal
        return self.waypoints[0][0] if self.waypoints else self.goal

    def _robot_map(self) -> robot_map.OccupancyGrid:
        """The map the stack would plan on: the home's grid plus the person's footprint where they stand."""
        grid = robot_map.OccupancyGrid(self.grid.resolution, self.grid.origin_xy, self.grid.data)
        if self.person is None:
            return grid
        size = self.config.planning_person_size_m
        x, y = self.person.position
        return grid.with_boxes([robot_map.OrientedBox(float(x), float(y), size, size)])

    def _observation(self) -> np.ndarray:
        sectors = spec.scan_to_sectors(self._scan, spec.LIDAR_ANGLE_MIN, spec.LIDAR_ANGLE_INCREMENT,
                                       spec.LIDAR_RANGE_MIN, spec.LIDAR_RANGE_MAX)
        goal_rf = spec.goal_in_robot_frame(tuple(self.pose), tuple(self.local_goal()))
        return spec.build_observation(sectors, goal_rf, (self.velocity[0], self.velocity[1]))

    def _info(self, collision: bool, success: bool) -> dict:
        return self.tally.info(collision, success)

    def scan(self) -> ScanSnapshot:
        """The current raw lidar scan."""
        return ScanSnapshot(self._scan, spec.LIDAR_ANGLE_MIN, spec.LIDAR_ANGLE_INCREMENT,
                            spec.LIDAR_RANGE_MIN, spec.LIDAR_RANGE_MAX)

    def privileged(self) -> PrivilegedState:
        """Full state for the privileged teachers."""
        if self.person is not None:
            p = self.person
            dyn = np.array([[p.position[0], p.position[1], p.radius, p.velocity[0], p.velocity[1]]])
        else:
            dyn = np.zeros((0, 5))
        return PrivilegedState(
            pose=(float(self.pose[0]), float(self.pose[1]), float(self.pose[2])),
            velocity=(float(self.velocity[0]), float(self.velocity[1])),
            goal_xy=tuple(float(c) for c in self.local_goal()),
            grid=self.grid,
            dynamic_obstacles=dyn,
            robot_radius=self.config.robot_radius,
            scan=self.scan(),
            final_goal_xy=(float(self.goal[0]), float(self.goal[1])),
        )

