"""``HomeSim``: the PyBullet home with robots, objects, devices, a person and a car.

It is the hardware stand-in for every demo and test. Each instance owns its own PyBullet client
(``BulletClient``, DIRECT unless ``gui``), steps physics at a fixed time step, and is deterministic for
a seed: the seed picks the layout variant (object jitter, clutter, start poses) and seeds the sensor
noise. Robot bases are driven kinematically-ish: each physics sub-step sets the base velocity from the
acceleration-limited (v, w) command and lets the solver resolve contacts, so walls and furniture stop
a robot physically and every touch is logged.

What the robot's software may use: ``set_cmd_vel``, ``scan``, ``odometry``, ``camera``, ``arm_*``,
``gripper``, ``carry_*``, ``set_device``/``device_state``, ``dock_state``, ``contacts``. Ground truth
(``object_position``, ``robot_pose``, ``scene_graph``) is for evaluation and for the robot's prior map.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from reflexarc.occupancy_grid import OccupancyGrid
from reflexarc.scene_graph import Device, Furniture, Person, Pose2D, Robot, SceneGraph, SceneObject
from sim.bullet import BulletConnection
from sim.home_layout import HomeLayout, ObjectSpec, PersonSpec, RobotSpec, load_home_layout
from sim.robot_models import ARM_HOME, ARM_LOWER, ARM_UPPER, FINGER_OPEN, ROBOT_MODELS, RobotBody, build_robot
from sim.sensors import (
    CameraConfig,
    CameraFrame,
    CollisionEvent,
    DockState,
    LaserScanData,
    LidarConfig,
    Odometry,
    SimEvent,
)
from sim.world_builder import (
    BuiltWorld,
    build_furniture,
    build_object,
    build_person,
    build_world,
    device_rgba,
)

__all__ = ["DEFAULT_ROBOTS", "HomeSim", "SimError"]

log = logging.getLogger(__name__)

DEFAULT_ROBOTS = ("robot1", "dog1", "vacuum1")
_ROBOT_GROUP_BASE = 8  # collision-filter bit of the first robot; lower bits are Bullet's defaults
_DOCK_RADIUS_M = 0.15
_TRAJECTORY_PERIOD_S = 0.1
_BATTERY_IDLE_DRAIN = 0.002  # percent per second
_BATTERY_MOTION_DRAIN = 0.04  # percent per second at 1 m/s
_BATTERY_CHARGE = 0.5  # percent per second on the dock
_ARM_MAX_FORCE = 80.0
_ARM_MAX_VELOCITY = 1.6
_ARM_POSITION_GAIN = 0.5
_ARM_CARTESIAN_STEP_M = 0.03
_ARM_CARTESIAN_DT = 0.05
_FINGER_FORCE = 25.0
_PENETRATION_SLOP_M = 0.003
_PENETRATION_GAIN = 5.0


class SimError(ValueError):
    """A request that names an unknown entity or is not possible for this robot kind."""


@dataclass
class _RobotState:
    spec: RobotSpec
    body: RobotBody
    group_bit: int
    cmd_v: float = 0.0
    cmd_w: float = 0.0
    v: float = 0.0
    w: float = 0.0
    battery: float = 100.0
    held: str | None = None
    held_constraint: int = -1
    cargo: str | None = None
    cargo_constraint: int = -1
    contacts: frozenset[str] = frozenset()
    base_contacts: frozenset[str] = frozenset()
    blocking: tuple[tuple[float, float, float], ...] = ()  # (nx, ny, depth) of touches with fixed things
    arm_targets: tuple[float, ...] = ARM_HOME
    finger_target: float = FINGER_OPEN
    trajectory: list[tuple[float, float]] = field(default_factory=list)

    @property
    def model(self):
        return self.body.model


class HomeSim:
    """The simulated home; see the module docstring for what is ground truth and what is sensing."""

    def __init__(
        self,
        layout: HomeLayout | None = None,
        seed: int = 0,
        gui: bool = False,
        robots: Sequence[str | RobotSpec] = DEFAULT_ROBOTS,
        lidar: LidarConfig | None = None,
        camera: CameraConfig | None = None,
        time_step: float = 1.0 / 60.0,
        solver_iterations: int = 10,
        car_present: bool = True,
        track_coverage: bool = True,
    ) -> None:
        base = layout if layout is not None else load_home_layout()
        base = base.randomized(seed)
        specs: list[RobotSpec] = []
        for item in robots:
            specs.append(item if isinstance(item, RobotSpec) else base.robot(item))
        known = {r.id for r in base.robots}
        extra = tuple(s for s in specs if s.id not in known)
        base = replace(base, robots=base.robots + extra)
        self._layout = base.with_robots([s.id for s in specs])
        self.seed = seed
        self.lidar_config = lidar if lidar is not None else LidarConfig()
        self.camera_config = camera if camera is not None else CameraConfig()
        self.time_step = float(time_step)
        self._rng = np.random.default_rng(seed)
        self._pb = BulletConnection(gui=gui)
        pb = self._pb
        if gui:
            pb.configureDebugVisualizer(pb.COV_ENABLE_GUI, 0)
            pb.resetDebugVisualizerCamera(12.0, 0.0, -70.0, [9.0, 4.0, 0.0])
        pb.setGravity(0.0, 0.0, -9.81)
        pb.setPhysicsEngineParameter(
            fixedTimeStep=self.time_step,
            numSolverIterations=solver_iterations,
            numSubSteps=0,
            deterministicOverlappingPairs=1,
        )
        self._time = 0.0
        self._steps = 0
        self._pending_dt = 0.0
        self._car_present = car_present
        self._world: BuiltWorld = build_world(pb, self._layout, include_car=car_present)
        self._objects: dict[str, ObjectSpec] = {o.id: o for o in self._layout.objects}
        if not car_present:
            self._objects = {k: o for k, o in self._objects.items() if o.on != "car"}
        self._body_entity: dict[int, str] = dict(self._world.entity_of_body)
        self._device_states: dict[str, str] = {d.id: d.state for d in self._layout.devices}
        self._people: dict[str, PersonSpec] = {p.id: p for p in self._layout.people}
        self._robots: dict[str, _RobotState] = {}
        for index, spec in enumerate(specs):
            if spec.kind not in ROBOT_MODELS:
                raise SimError(f"robot {spec.id!r} has unknown kind {spec.kind!r}")
            body = build_robot(pb, spec.kind, (spec.start.x, spec.start.y, spec.start.yaw))
            bit = 1 << (_ROBOT_GROUP_BASE + index)
            for link in range(-1, pb.getNumJoints(body.body)):
                pb.setCollisionFilterGroupMask(body.body, link, bit, -1)
            state = _RobotState(spec=spec, body=body, group_bit=bit)
            self._robots[spec.id] = state
            self._body_entity[body.body] = spec.id
            if body.arm_joints:
                self._apply_arm_targets(state)
        self._person_holding: dict[str, tuple[str, int]] = {}  # object -> (person, constraint)
        self._collision_log: list[CollisionEvent] = []
        self._events: list[SimEvent] = []
        self._scheduled: list[tuple[float, int, str, dict[str, Any]]] = []
        self._event_seq = itertools.count()
        self._grid: OccupancyGrid | None = None
        self._scan_cache: dict[str, tuple[int, LaserScanData]] = {}
        self._next_traj_time = 0.0
        self._coverage: np.ndarray | None = None
        self._track_coverage = track_coverage
        self._update_docks()
        self._record_trajectories()
        # let objects settle onto their supports so the first observation is a resting world
        self._advance(int(round(0.25 / self.time_step)))
        self._time = 0.0
        self._steps = 0
        self._collision_log.clear()
        for state in self._robots.values():
            state.trajectory = [(state.spec.start.x, state.spec.start.y)]
        self._next_traj_time = _TRAJECTORY_PERIOD_S

    # ------------------------------------------------------------------------------- lifecycle
    def close(self) -> None:
        """Disconnect the PyBullet client (idempotent)."""
        if self._pb is not None:
            self._pb.disconnect()
            self._pb = None  # type: ignore[assignment]

    def __enter__(self) -> HomeSim:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def client(self) -> BulletConnection:
        """The PyBullet client this simulation owns (for tools; robot software must not use it)."""
        return self._pb

    @property
    def layout(self) -> HomeLayout:
        """The (seeded) layout this world was built from."""
        return self._layout

    @property
    def time(self) -> float:
        """Simulated time in seconds since the start."""
        return self._time

    @property
    def robot_ids(self) -> tuple[str, ...]:
        """Ids of the robots in this simulation."""
        return tuple(self._robots)

    def robot_kind(self, robot_id: str) -> str:
        """``manipulator``, ``dog`` or ``vacuum``."""
        return self._robot(robot_id).spec.kind

    def robot_radius(self, robot_id: str) -> float:
        """Footprint radius of the robot (metres)."""
        return self._robot(robot_id).model.radius

    # -------------------------------------------------------------------------------- stepping
    def step(self, dt: float) -> None:
        """Advance simulated time by ``dt`` seconds in fixed sub-steps (remainders carry over)."""
        if dt < 0:
            raise ValueError("dt must be non-negative")
        self._pending_dt += dt
        n = int(math.floor(self._pending_dt / self.time_step + 1e-9))
        self._pending_dt -= n * self.time_step
        self._advance(n)

    def _advance(self, n_substeps: int) -> None:
        pb = self._pb
        ts = self.time_step
        for _ in range(n_substeps):
            self._run_due_events()
            for state in self._robots.values():
                self._drive(state, ts)
            pb.stepSimulation()
            self._steps += 1
            self._time = self._steps * ts
            for state in self._robots.values():
                self._update_contacts(state)
            if self._time + 1e-9 >= self._next_traj_time:
                self._next_traj_time += _TRAJECTORY_PERIOD_S
                self._record_trajectories()
                self._update_docks()
                for state in self._robots.values():
                    self._update_battery(state, _TRAJECTORY_PERIOD_S)

    def _drive(self, state: _RobotState, dt: float) -> None:
        model = state.model
        dv = model.accel * dt
        dw = model.alpha * dt
        state.v += min(max(state.cmd_v - state.v, -dv), dv)
        state.w += min(max(state.cmd_w - state.w, -dw), dw)
        pb = self._pb
        body = state.body.body
        pos, (qx, qy, qz, qw) = pb.getBasePositionAndOrientation(body)
        yaw = math.atan2(2.0 * (qw * qz + qx * qy), 1.0 - 2.0 * (qy * qy + qz * qz))
        if abs(qx) > 0.01 or abs(qy) > 0.01:
            # the base is a wheeled platform: keep it upright as its suspension would
            pb.resetBasePositionAndOrientation(body, pos, (0.0, 0.0, math.sin(yaw / 2), math.cos(yaw / 2)))
        vx, vy = state.v * math.cos(yaw), state.v * math.sin(yaw)
        for nx, ny, depth in state.blocking:
            # a wheeled base cannot drive into a wall: drop the velocity component into fixed obstacles
            # and back out of any penetration the solver left (movable objects are pushed physically)
            into = vx * nx + vy * ny
            if into < 0.0:
                vx -= into * nx
                vy -= into * ny
            if depth < -_PENETRATION_SLOP_M:
                push = min(-depth * _PENETRATION_GAIN, 0.2)
                vx += push * nx
                vy += push * ny
        vz = pb.getBaseVelocity(body)[0][2]
        pb.resetBaseVelocity(body, (vx, vy, vz), (0.0, 0.0, state.w))

    def _update_contacts(self, state: _RobotState) -> None:
        ignore = {state.held, state.cargo, "floor"}
        touching: set[str] = set()
        base_touching: set[str] = set()
        position: dict[str, tuple[float, float, float]] = {}
        distance: dict[str, float] = {}
        blocking: list[tuple[float, float, float]] = []
        for pt in self._pb.getContactPoints(bodyA=state.body.body):
            other = self._body_entity.get(pt[2], "unknown")
            if other in ignore:
                continue
            touching.add(other)
            if pt[3] == -1:
                base_touching.add(other)
                position.setdefault(other, tuple(pt[5]))
                distance[other] = min(distance.get(other, math.inf), float(pt[8]))
                if other not in self._objects and other not in self._robots:
                    nx, ny = pt[7][0], pt[7][1]
                    norm = math.hypot(nx, ny)
                    if norm > 1e-6:
                        blocking.append((nx / norm, ny / norm, pt[8]))
        state.blocking = tuple(blocking)
        for other in sorted(base_touching - state.base_contacts):
            event = CollisionEvent(self._time, state.spec.id, other, position[other], distance[other])
            self._collision_log.append(event)
            log.info("collision: %s touched %s at t=%.2f (contact distance %.4f m)", state.spec.id, other,
                     self._time, distance[other])
        state.contacts = frozenset(touching)
        state.base_contacts = frozenset(base_touching)

    def _update_battery(self, state: _RobotState, dt: float) -> None:
        if self._docked(state):
            state.battery = min(100.0, state.battery + _BATTERY_CHARGE * dt)
        else:
            drain = _BATTERY_IDLE_DRAIN + _BATTERY_MOTION_DRAIN * abs(state.v)
            state.battery = max(0.0, state.battery - drain * dt)

    def _record_trajectories(self) -> None:
        for state in self._robots.values():
            x, y, _ = self._base_pose(state)
            state.trajectory.append((round(x, 4), round(y, 4)))
            if self._track_coverage and state.spec.kind == "vacuum":
                self._mark_cleaned(x, y, state.model.radius)

    # ---------------------------------------------------------------------------- base motion
    def set_cmd_vel(self, robot_id: str, v: float, w: float) -> None:
        """Command forward speed ``v`` (m/s) and turn rate ``w`` (rad/s); clamped to the robot's limits."""
        state = self._robot(robot_id)
        model = state.model
        v = 0.0 if not math.isfinite(v) else v
        w = 0.0 if not math.isfinite(w) else w
        state.cmd_v = min(max(float(v), -model.v_max), model.v_max)
        state.cmd_w = min(max(float(w), -model.w_max), model.w_max)

    def odometry(self, robot_id: str) -> Odometry:
        """Pose (odom frame = map frame here) and measured body velocities."""
        state = self._robot(robot_id)
        x, y, yaw = self._base_pose(state)
        lin, ang = self._pb.getBaseVelocity(state.body.body)
        v = lin[0] * math.cos(yaw) + lin[1] * math.sin(yaw)
        return Odometry(x=x, y=y, yaw=yaw, v=float(v), w=float(ang[2]), stamp=self._time)

    def robot_pose(self, robot_id: str) -> Pose2D:
        """Ground-truth planar pose (evaluation only)."""
        x, y, yaw = self._base_pose(self._robot(robot_id))
        return Pose2D(x, y, yaw)

    def teleport_robot(self, robot_id: str, pose: Pose2D) -> None:
        """Place a robot at a pose with zero velocity (episode resets; not a robot capability)."""
        state = self._robot(robot_id)
        state.cmd_v = state.cmd_w = state.v = state.w = 0.0
        self._pb.resetBasePositionAndOrientation(
            state.body.body, [pose.x, pose.y, 0.0], self._pb.getQuaternionFromEuler((0.0, 0.0, pose.yaw))
        )
        self._pb.resetBaseVelocity(state.body.body, [0.0, 0.0, 0.0], [0.0, 0.0, 0.0])
        state.trajectory.append((pose.x, pose.y))
        self._scan_cache.pop(robot_id, None)

    def trajectory(self, robot_id: str) -> list[tuple[float, float]]:
        """The robot's path sampled every 0.1 s of simulated time."""
        return list(self._robot(robot_id).trajectory)

    def _base_pose(self, state: _RobotState) -> tuple[float, float, float]:
        pos, orn = self._pb.getBasePositionAndOrientation(state.body.body)
        yaw = self._pb.getEulerFromQuaternion(orn)[2]
        return float(pos[0]), float(pos[1]), float(yaw)

    # ---------------------------------------------------------------------------------- sensors
    def scan(self, robot_id: str) -> LaserScanData:
        """A 2D lidar sweep (``rayTestBatch``) that never sees the robot itself or what it holds."""
        state = self._robot(robot_id)
        cached = self._scan_cache.get(robot_id)
        if cached is not None and cached[0] == self._steps:
            return cached[1]
        cfg = self.lidar_config
        x, y, yaw = self._base_pose(state)
        angles = yaw + cfg.angles()
        c, s = np.cos(angles), np.sin(angles)
        r0 = state.model.radius + 0.01
        z = state.model.lidar_height
        starts = np.stack([x + r0 * c, y + r0 * s, np.full_like(c, z)], axis=1)
        ends = np.stack([x + cfg.range_max * c, y + cfg.range_max * s, np.full_like(c, z)], axis=1)
        mask = 0x7FFFFFFF & ~state.group_bit
        hits = self._pb.rayTestBatch(starts.tolist(), ends.tolist(), numThreads=1, collisionFilterMask=mask)
        ranges = np.full(cfg.beams, np.inf, dtype=np.float64)
        span = cfg.range_max - r0
        for i, hit in enumerate(hits):
            if hit[0] >= 0:
                ranges[i] = r0 + hit[2] * span
        if cfg.noise_sigma > 0:
            finite = np.isfinite(ranges)
            ranges[finite] += self._rng.normal(0.0, cfg.noise_sigma, int(finite.sum()))
            ranges[finite & (ranges > cfg.range_max)] = np.inf
        scan = LaserScanData(
            ranges=ranges.astype(np.float32),
            angle_min=cfg.angle_min,
            angle_increment=cfg.angle_increment,
            range_min=cfg.range_min,
            range_max=cfg.range_max,
            stamp=self._time,
            frame_id=f"{robot_id}/laser",
        )
        self._scan_cache[robot_id] = (self._steps, scan)
        return scan

    def camera(self, robot_id: str) -> CameraFrame:
        """An RGB-D frame from the robot's camera (manipulator: head camera looking forward-down)."""
        state = self._robot(robot_id)
        cfg = self.camera_config
        pb = self._pb
        x, y, yaw = self._base_pose(state)
        model = state.model
        if state.body.camera_link >= 0:
            link = pb.getLinkState(state.body.body, state.body.camera_link, computeForwardKinematics=True)
            eye = np.array(link[4])
        else:
            mx, my, mz = model.camera_xyz
            eye = np.array([x + mx * math.cos(yaw) - my * math.sin(yaw), y + mx * math.sin(yaw) + my * math.cos(yaw), mz])
        pitch = model.camera_pitch
        forward = np.array([math.cos(yaw) * math.cos(pitch), math.sin(yaw) * math.cos(pitch), -math.sin(pitch)])
        right = np.cross(forward, [0.0, 0.0, 1.0])
        right /= np.linalg.norm(right)
        down = np.cross(forward, right)
        view = pb.computeViewMatrix(eye.tolist(), (eye + forward).tolist(), (-down).tolist())
        proj = pb.computeProjectionMatrixFOV(cfg.fov_deg, cfg.width / cfg.height, cfg.near, cfg.far)
        _, _, rgba, zbuf, seg = pb.getCameraImage(
            cfg.width, cfg.height, view, proj, renderer=pb.ER_TINY_RENDERER,
            lightDirection=[0.4, 0.3, 1.0], shadow=0,
        )
        rgb = np.asarray(rgba, dtype=np.uint8).reshape(cfg.height, cfg.width, 4)[:, :, :3].copy()
        zbuf = np.asarray(zbuf, dtype=np.float64).reshape(cfg.height, cfg.width)
        depth = (cfg.far * cfg.near / (cfg.far - (cfg.far - cfg.near) * zbuf)).astype(np.float32)
        seg = np.asarray(seg, dtype=np.int64).reshape(cfg.height, cfg.width)
        labels = sorted({self._body_entity[b] for b in np.unique(seg) if b in self._body_entity} - {"floor"})
        label_index = {name: i for i, name in enumerate(labels)}
        lut = np.full(max(self._body_entity) + 2, -1, dtype=np.int32)  # the last entry maps -1 (nothing)
        for body, entity in self._body_entity.items():
            lut[body] = label_index.get(entity, -1)
        segmentation = lut[np.clip(seg, -1, len(lut) - 2)]
        fy = (cfg.height / 2.0) / math.tan(math.radians(cfg.fov_deg) / 2.0)
        world_from_camera = np.eye(4)
        world_from_camera[:3, 0] = right
        world_from_camera[:3, 1] = down
        world_from_camera[:3, 2] = forward
        world_from_camera[:3, 3] = eye
        return CameraFrame(
            rgb=rgb, depth=depth, fx=fy, fy=fy, cx=cfg.width / 2.0, cy=cfg.height / 2.0,
            world_from_camera=world_from_camera, stamp=self._time, segmentation=segmentation,
            labels=tuple(labels),
        )

    def contacts(self, robot_id: str, base_only: bool = False) -> list[str]:
        """Entity ids touching the robot (not the floor, not what it holds or carries)."""
        state = self._robot(robot_id)
        return sorted(state.base_contacts if base_only else state.contacts)

    @property
    def collision_log(self) -> tuple[CollisionEvent, ...]:
        """Every new contact of a robot's body with anything but the floor, in time order."""
        return tuple(self._collision_log)

    # ------------------------------------------------------------------------------------ arm
    def _manipulator(self, robot_id: str) -> _RobotState:
        state = self._robot(robot_id)
        if not state.body.arm_joints:
            raise SimError(f"robot {robot_id!r} ({state.spec.kind}) has no arm")
        return state

    def _apply_arm_targets(self, state: _RobotState) -> None:
        pb = self._pb
        body = state.body
        for joint, q in zip(body.arm_joints, state.arm_targets, strict=True):
            pb.setJointMotorControl2(body.body, joint, pb.POSITION_CONTROL, targetPosition=q,
                                     force=_ARM_MAX_FORCE, maxVelocity=_ARM_MAX_VELOCITY,
                                     positionGain=_ARM_POSITION_GAIN, velocityGain=1.0)
        for joint in body.finger_joints:
            pb.setJointMotorControl2(body.body, joint, pb.POSITION_CONTROL, targetPosition=state.finger_target,
                                     force=_FINGER_FORCE, maxVelocity=0.2, positionGain=0.3)

    def tcp_position(self, robot_id: str) -> tuple[float, float, float]:
        """World position of the gripper's tool centre point (between the fingertips)."""
        state = self._manipulator(robot_id)
        link = self._pb.getLinkState(state.body.body, state.body.tcp_link, computeForwardKinematics=True)
        return tuple(float(v) for v in link[4])  # type: ignore[return-value]

    def arm_move_to(
        self,
        robot_id: str,
        xyz_world: Sequence[float],
        timeout: float = 6.0,
        tolerance: float = 0.02,
        tool_yaw: float | None = None,
    ) -> bool:
        """Move the gripper (pointing down) to ``xyz_world`` by IK and joint motors; True if it got there.

        The tool centre follows straight Cartesian segments (up first, then across, then down, as a
        careful arm would over a counter), each short step solved by ``calculateInverseKinematics`` and
        tracked by position-controlled joint motors; the simulation keeps running meanwhile (other robots
        and events advance too). A target out of reach leaves the arm stretched towards it: False.
        """
        state = self._manipulator(robot_id)
        target = tuple(float(v) for v in xyz_world)
        x, y, _ = self._base_pose(state)
        if tool_yaw is None:
            # the gripper is symmetric; this yaw keeps the wrist roll near zero for a straight reach
            tool_yaw = math.atan2(target[1] - y, target[0] - x) + math.pi
        deadline = self._time + timeout
        start = self.tcp_position(robot_id)
        top = max(start[2], target[2])
        waypoints = [(start[0], start[1], top), (target[0], target[1], top), target]
        previous = start
        for waypoint in waypoints:
            length = math.dist(previous, waypoint)
            n = int(math.ceil(length / _ARM_CARTESIAN_STEP_M))
            for k in range(1, n + 1):
                point = [a + (b - a) * k / n for a, b in zip(previous, waypoint, strict=True)]
                state.arm_targets = self._solve_arm_ik(state, point, tool_yaw, seed=state.arm_targets)
                self._apply_arm_targets(state)
                self.step(_ARM_CARTESIAN_DT)
                if self._time >= deadline:
                    break
            previous = waypoint
        error = math.inf
        for _ in range(3):
            while self._time < deadline and not self._arm_settled(state):
                self.step(0.05)
            error = math.dist(self.tcp_position(robot_id), target)
            if error <= tolerance or self._time >= deadline:
                break
            state.arm_targets = self._solve_arm_ik(state, list(target), tool_yaw, seed=None)
            self._apply_arm_targets(state)
        log.debug("arm_move_to %s -> %s: error %.3f m", robot_id, target, error)
        return error <= tolerance

    def _solve_arm_ik(
        self, state: _RobotState, target: Sequence[float], tool_yaw: float, seed: Sequence[float] | None
    ) -> tuple[float, ...]:
        """Joint targets putting the TCP at ``target`` pointing down (``calculateInverseKinematics``).

        ``seed`` is the configuration the solver starts from (the previous targets keep a path
        continuous); None starts from the arm's current joint positions.
        """
        pb = self._pb
        body = state.body
        lower = list(ARM_LOWER) + [0.0, 0.0]
        upper = list(ARM_UPPER) + [FINGER_OPEN, FINGER_OPEN]
        ranges = [u - lo for lo, u in zip(lower, upper, strict=True)]
        rest = list(ARM_HOME) + [state.finger_target] * 2
        saved = [pb.getJointState(body.body, j)[:2] for j in body.arm_joints]
        if seed is not None:
            for j, q in zip(body.arm_joints, seed, strict=True):
                pb.resetJointState(body.body, j, q)
        orn = pb.getQuaternionFromEuler((math.pi, 0.0, tool_yaw))
        solution = pb.calculateInverseKinematics(
            body.body, body.tcp_link, list(target), orn,
            lowerLimits=lower, upperLimits=upper, jointRanges=ranges, restPoses=rest,
            maxNumIterations=100, residualThreshold=1e-4,
        )
        if seed is not None:
            for j, (q, qd) in zip(body.arm_joints, saved, strict=True):
                pb.resetJointState(body.body, j, q, qd)
        n = len(body.arm_joints)
        return tuple(min(max(a, lo), hi) for a, lo, hi in zip(solution[:n], ARM_LOWER, ARM_UPPER, strict=True))

    def _arm_settled(self, state: _RobotState) -> bool:
        pb = self._pb
        for joint, target in zip(state.body.arm_joints, state.arm_targets, strict=True):
            q, qd = pb.getJointState(state.body.body, joint)[:2]
            if abs(q - target) > 0.01 or abs(qd) > 0.05:
                return False
        return True

    def arm_home(self, robot_id: str, timeout: float = 4.0) -> bool:
        """Fold the arm back over the base (the driving pose), lifting clear first; True once there."""
        state = self._manipulator(robot_id)
        pb = self._pb
        body = state.body
        saved = [pb.getJointState(body.body, j)[:2] for j in body.arm_joints]
        for j, q in zip(body.arm_joints, ARM_HOME, strict=True):
            pb.resetJointState(body.body, j, q)
        home_tcp = self.tcp_position(robot_id)
        for j, (q, qd) in zip(body.arm_joints, saved, strict=True):
            pb.resetJointState(body.body, j, q, qd)
        x, y, yaw = self._base_pose(state)
        deadline = self._time + timeout
        self.arm_move_to(robot_id, home_tcp, timeout=timeout, tolerance=0.05, tool_yaw=yaw + math.pi)
        state.arm_targets = ARM_HOME
        self._apply_arm_targets(state)
        while self._time < deadline and not self._arm_settled(state):
            self.step(0.05)
        return self._arm_settled(state)

    def gripper(self, robot_id: str, close: bool) -> bool:
        """Close (grasp by contact) or open (release) the gripper; returns whether something is held.

        Closing creates a fixed grasp constraint only if both fingers touch the same graspable object;
        closing on air, or on something not graspable, holds nothing.
        """
        state = self._manipulator(robot_id)
        pb = self._pb
        body = state.body
        if not close:
            self._release(state)
            state.finger_target = FINGER_OPEN
            self._apply_arm_targets(state)
            self.step(0.5)
            return False
        if state.held is not None:
            return True
        state.finger_target = 0.0
        self._apply_arm_targets(state)
        self.step(0.6)
        touching: list[set[str]] = []
        for finger in body.finger_joints:
            ids = {self._body_entity.get(pt[2], "") for pt in pb.getContactPoints(bodyA=body.body, linkIndexA=finger)}
            touching.append({i for i in ids if i in self._objects})
        both = sorted(touching[0] & touching[1])
        candidates = [oid for oid in both if self._objects[oid].graspable and oid not in self._carried_ids()]
        if not candidates:
            return False
        object_id = candidates[0]
        obj_body = self._world.object_bodies[object_id]
        palm = pb.getLinkState(body.body, body.palm_link, computeForwardKinematics=True)
        obj_pos, obj_orn = pb.getBasePositionAndOrientation(obj_body)
        inv_pos, inv_orn = pb.invertTransform(palm[4], palm[5])
        rel_pos, rel_orn = pb.multiplyTransforms(inv_pos, inv_orn, obj_pos, obj_orn)
        # constraint frames are relative to the link's inertial frame, which equals its link frame here
        constraint = pb.createConstraint(body.body, body.palm_link, obj_body, -1, pb.JOINT_FIXED, [0, 0, 0],
                                         rel_pos, [0, 0, 0], rel_orn, [0, 0, 0, 1])
        pb.changeConstraint(constraint, maxForce=200.0)
        for link in range(-1, pb.getNumJoints(body.body)):
            pb.setCollisionFilterPair(body.body, obj_body, link, -1, 0)
        pb.setCollisionFilterGroupMask(obj_body, -1, state.group_bit, -1)
        state.held = object_id
        state.held_constraint = constraint
        state.finger_target = max(pb.getJointState(body.body, body.finger_joints[0])[0], 0.0)
        self._apply_arm_targets(state)
        log.info("%s grasped %s", robot_id, object_id)
        return True

    def _release(self, state: _RobotState) -> None:
        if state.held is None:
            return
        pb = self._pb
        obj_body = self._world.object_bodies[state.held]
        pb.removeConstraint(state.held_constraint)
        pb.setCollisionFilterGroupMask(obj_body, -1, 1, -1)
        for link in range(-1, pb.getNumJoints(state.body.body)):
            pb.setCollisionFilterPair(state.body.body, obj_body, link, -1, 1)
        log.info("%s released %s", state.spec.id, state.held)
        state.held = None
        state.held_constraint = -1

    def held_object(self, robot_id: str) -> str | None:
        """Id of the object in the gripper (or on the dog's cargo bay), or None."""
        state = self._robot(robot_id)
        return state.held if state.held is not None else state.cargo

    def grasp_at(self, robot_id: str, xyz_world: Sequence[float], approach: float = 0.12) -> bool:
        """Pick an object believed to be at ``xyz_world``: above it, down, close, lift. True if held and lifted."""
        x, y, z = (float(v) for v in xyz_world)
        if self._manipulator(robot_id).held is not None:
            return False
        self.gripper(robot_id, close=False)
        if not self.arm_move_to(robot_id, (x, y, z + approach)):
            return False
        if not self.arm_move_to(robot_id, (x, y, z), tolerance=0.025):
            self.arm_move_to(robot_id, (x, y, z + approach))
            return False
        held = self.gripper(robot_id, close=True)
        self.arm_move_to(robot_id, (x, y, z + approach + 0.05), tolerance=0.04)
        if not held:
            self.gripper(robot_id, close=False)
        return held

    def place_at(self, robot_id: str, xyz_world: Sequence[float], approach: float = 0.12) -> bool:
        """Put the held object down with its centre at ``xyz_world`` and open the gripper; True if placed."""
        state = self._manipulator(robot_id)
        if state.held is None:
            return False
        x, y, z = (float(v) for v in xyz_world)
        if not self.arm_move_to(robot_id, (x, y, z + approach), tolerance=0.03):
            return False
        self.arm_move_to(robot_id, (x, y, z + 0.01), tolerance=0.03)
        self.gripper(robot_id, close=False)
        self.arm_move_to(robot_id, (x, y, z + approach), tolerance=0.05)
        return True

    def person_hand_position(self, person_id: str = "user") -> tuple[float, float, float]:
        """Where a person takes things: in front of them at lap (seated) or waist (standing) height."""
        person = self._people[person_id]
        reach = 0.35
        z = 0.7 if person.posture == "seated" else 1.0
        return (person.pose.x + reach * math.cos(person.pose.yaw), person.pose.y + reach * math.sin(person.pose.yaw), z)

    def handover(self, robot_id: str, person_id: str = "user", reach: float = 0.2) -> bool:
        """Give the held object to a person: only if the gripper is within ``reach`` of their hand.

        The person then holds it (``held_by`` in the scene graph) and the gripper opens.
        """
        state = self._manipulator(robot_id)
        if person_id not in self._people:
            raise SimError(f"unknown person {person_id!r}")
        if state.held is None:
            return False
        hand = self.person_hand_position(person_id)
        tcp = self.tcp_position(robot_id)
        if math.hypot(tcp[0] - hand[0], tcp[1] - hand[1]) > reach or abs(tcp[2] - hand[2]) > 0.3:
            return False
        object_id = state.held
        self._release(state)
        self._give_to_person(object_id, person_id)
        state.finger_target = FINGER_OPEN
        self._apply_arm_targets(state)
        self.step(0.3)
        self._log_event("handover", robot=robot_id, object=object_id, person=person_id)
        return True

    def _give_to_person(self, object_id: str, person_id: str) -> None:
        pb = self._pb
        body = self._world.object_bodies[object_id]
        hand = self.person_hand_position(person_id)
        pb.resetBasePositionAndOrientation(body, hand, [0, 0, 0, 1])
        pb.resetBaseVelocity(body, [0, 0, 0], [0, 0, 0])
        constraint = pb.createConstraint(body, -1, -1, -1, pb.JOINT_FIXED, [0, 0, 0], [0, 0, 0], hand)
        pb.setCollisionFilterGroupMask(body, -1, 0, 0)  # in a hand, it bumps into nothing
        self._person_holding[object_id] = (person_id, constraint)

    # ------------------------------------------------------------------------------ dog cargo
    def carry_load(self, robot_id: str, object_id: str) -> bool:
        """Load an object onto the dog's cargo bay, only if it lies within reach of the bay."""
        state = self._robot(robot_id)
        model = state.model
        if model.cargo_xyz is None:
            raise SimError(f"robot {robot_id!r} ({state.spec.kind}) has no cargo bay")
        if state.cargo is not None or object_id not in self._objects or object_id in self._carried_ids():
            return False
        pb = self._pb
        obj = self._objects[object_id]
        obj_body = self._world.object_bodies[object_id]
        x, y, yaw = self._base_pose(state)
        ox, oy, oz = pb.getBasePositionAndOrientation(obj_body)[0]
        if math.hypot(ox - x, oy - y) > model.cargo_reach or oz > 1.3:
            return False
        cx, cy, cz = model.cargo_xyz
        local = [cx, cy, cz + obj.height / 2.0 + 0.005]
        world = [x + local[0] * math.cos(yaw) - local[1] * math.sin(yaw),
                 y + local[0] * math.sin(yaw) + local[1] * math.cos(yaw), local[2]]
        orn = pb.getQuaternionFromEuler((0.0, 0.0, yaw))
        pb.resetBasePositionAndOrientation(obj_body, world, orn)
        pb.resetBaseVelocity(obj_body, [0, 0, 0], [0, 0, 0])
        for link in range(-1, pb.getNumJoints(state.body.body)):
            pb.setCollisionFilterPair(state.body.body, obj_body, link, -1, 0)
        pb.setCollisionFilterGroupMask(obj_body, -1, state.group_bit, -1)
        constraint = pb.createConstraint(state.body.body, -1, obj_body, -1, pb.JOINT_FIXED, [0, 0, 0],
                                         [local[0], local[1], local[2] - 0.12], [0, 0, 0])
        pb.changeConstraint(constraint, maxForce=2000.0)
        state.cargo = object_id
        state.cargo_constraint = constraint
        self._log_event("cargo_loaded", robot=robot_id, object=object_id)
        return True

    def carry_unload(self, robot_id: str) -> bool:
        """Set the carried object down on the floor beside the dog (first free side: back, left, right, front)."""
        state = self._robot(robot_id)
        if state.cargo is None:
            return False
        pb = self._pb
        obj = self._objects[state.cargo]
        obj_body = self._world.object_bodies[state.cargo]
        x, y, yaw = self._base_pose(state)
        grid = self.occupancy_grid()
        distance = state.model.radius + obj.radius + 0.08
        for offset in (math.pi, math.pi / 2, -math.pi / 2, 0.0):
            a = yaw + offset
            px, py = x + distance * math.cos(a), y + distance * math.sin(a)
            ring = np.linspace(0, 2 * math.pi, 8, endpoint=False)
            xs = np.append(px + obj.radius * np.cos(ring), px)
            ys = np.append(py + obj.radius * np.sin(ring), py)
            if grid.occupied_at(xs, ys).any():
                continue
            half = obj.radius + 0.02
            overlapping = pb.getOverlappingObjects([px - half, py - half, 0.02], [px + half, py + half, obj.height])
            blockers = {self._body_entity.get(b) for b, _ in overlapping or ()} - {"floor", state.cargo, robot_id}
            if blockers - {None}:
                continue
            pb.removeConstraint(state.cargo_constraint)
            pb.resetBasePositionAndOrientation(obj_body, [px, py, obj.height / 2.0 + 0.01],
                                               pb.getQuaternionFromEuler((0.0, 0.0, yaw)))
            pb.resetBaseVelocity(obj_body, [0, 0, 0], [0, 0, 0])
            pb.setCollisionFilterGroupMask(obj_body, -1, 1, -1)
            for link in range(-1, pb.getNumJoints(state.body.body)):
                pb.setCollisionFilterPair(state.body.body, obj_body, link, -1, 1)
            self._log_event("cargo_unloaded", robot=robot_id, object=state.cargo, position=[px, py])
            state.cargo = None
            state.cargo_constraint = -1
            return True
        return False

    def _carried_ids(self) -> set[str]:
        ids = set(self._person_holding)
        for state in self._robots.values():
            ids.update(i for i in (state.held, state.cargo) if i is not None)
        return ids

    # -------------------------------------------------------------------------------- devices
    def set_device(self, device_id: str, state: str) -> bool:
        """Switch a device; False if the state is not allowed (docks follow the robots, not commands)."""
        spec = self._layout.device(device_id) if device_id in self._device_states else None
        if spec is None:
            raise SimError(f"unknown device {device_id!r}")
        state = str(state).strip()
        if spec.kind == "dock" or not spec.to_device().accepts(state):
            return False
        if spec.value_range is not None:
            value = float(state)
            state = str(int(value)) if value.is_integer() else f"{value:g}"
        self._device_states[device_id] = state
        self._show_device(device_id)
        self._log_event("device_changed", device=device_id, state=state)
        return True

    def device_state(self, device_id: str) -> str:
        """Current state of a device."""
        if device_id not in self._device_states:
            raise SimError(f"unknown device {device_id!r}")
        return self._device_states[device_id]

    def device_colour(self, device_id: str) -> tuple[float, float, float, float]:
        """The RGBA its indicator currently shows (what a camera or a person sees)."""
        if device_id not in self._world.device_bodies:
            raise SimError(f"unknown device {device_id!r}")
        indicator = self._world.device_bodies[device_id][1][0]
        return tuple(float(c) for c in self._pb.getVisualShapeData(indicator)[0][7])  # type: ignore[return-value]

    def _show_device(self, device_id: str) -> None:
        spec = self._layout.device(device_id)
        rgba = device_rgba(spec, self._device_states[device_id], self._layout.rgba)
        for indicator in self._world.device_bodies[device_id][1]:
            self._pb.changeVisualShape(indicator, -1, rgbaColor=rgba)

    def dock_state(self, robot_id: str) -> DockState:
        """Whether the robot sits on its dock, and its battery (percent)."""
        state = self._robot(robot_id)
        docked = self._docked(state)
        return DockState(robot_id=robot_id, dock_id=state.spec.dock, docked=docked,
                         battery=round(state.battery, 3), charging=docked and state.battery < 100.0)

    def dock_pose(self, robot_id: str) -> Pose2D:
        """Where the robot's dock is (the pose it started from)."""
        return self._robot(robot_id).spec.start

    def _docked(self, state: _RobotState) -> bool:
        if not state.spec.dock or state.spec.dock not in self._device_states:
            return False
        dx, dy, _ = self._layout.device(state.spec.dock).position
        x, y, _ = self._base_pose(state)
        return math.hypot(x - dx, y - dy) <= _DOCK_RADIUS_M

    def _update_docks(self) -> None:
        for spec in self._layout.devices:
            if spec.kind != "dock":
                continue
            occupied = any(
                math.hypot(self._base_pose(s)[0] - spec.position[0], self._base_pose(s)[1] - spec.position[1])
                <= _DOCK_RADIUS_M
                for s in self._robots.values()
            )
            new = "occupied" if occupied else "free"
            if self._device_states[spec.id] != new:
                self._device_states[spec.id] = new
                self._show_device(spec.id)

    # --------------------------------------------------------------------------------- events
    def drop_object(self, object_id: str, xy: Sequence[float], at_time: float | None = None) -> str:
        """Drop an object (an existing one, or a new toy with this id) onto the floor at ``xy``, now or at ``at_time``."""
        data = {"object": object_id, "xy": [float(xy[0]), float(xy[1])]}
        if at_time is not None and at_time > self._time:
            heapq.heappush(self._scheduled, (float(at_time), next(self._event_seq), "drop_object", data))
        else:
            self._do_drop(data)
        return object_id

    def move_person(self, pose: Pose2D | Sequence[float], person_id: str = "user", posture: str | None = None,
                    at_time: float | None = None) -> None:
        """Move a person (they stand up unless ``posture`` says otherwise), now or at ``at_time``."""
        if person_id not in self._people:
            raise SimError(f"unknown person {person_id!r}")
        if not isinstance(pose, Pose2D):
            pose = Pose2D(float(pose[0]), float(pose[1]), float(pose[2]) if len(pose) > 2 else 0.0)
        data = {"person": person_id, "pose": [pose.x, pose.y, pose.yaw], "posture": posture or "standing"}
        if at_time is not None and at_time > self._time:
            heapq.heappush(self._scheduled, (float(at_time), next(self._event_seq), "move_person", data))
        else:
            self._do_move_person(data)

    def car_arrived(self, at_time: float | None = None) -> SimEvent | None:
        """The car pulls into the driveway (with the luggage in its trunk); returns the event when immediate."""
        if at_time is not None and at_time > self._time:
            heapq.heappush(self._scheduled, (float(at_time), next(self._event_seq), "car_arrived", {}))
            return None
        return self._do_car_arrived({})

    @property
    def events(self) -> tuple[SimEvent, ...]:
        """Everything that happened so far (drops, person moves, car arrival, device changes, cargo)."""
        return tuple(self._events)

    def _log_event(self, kind: str, **data: Any) -> SimEvent:
        event = SimEvent(self._time, kind, dict(data))
        self._events.append(event)
        return event

    def _run_due_events(self) -> None:
        while self._scheduled and self._scheduled[0][0] <= self._time + 1e-9:
            _, _, kind, data = heapq.heappop(self._scheduled)
            {"drop_object": self._do_drop, "move_person": self._do_move_person,
             "car_arrived": self._do_car_arrived}[kind](data)

    def _do_drop(self, data: dict[str, Any]) -> SimEvent:
        pb = self._pb
        object_id = data["object"]
        x, y = data["xy"]
        if object_id in self._objects:
            for state in self._robots.values():
                if state.held == object_id:
                    self._release(state)
            if object_id in self._person_holding:
                pb.removeConstraint(self._person_holding.pop(object_id)[1])
                pb.setCollisionFilterGroupMask(self._world.object_bodies[object_id], -1, 1, -1)
            obj = self._objects[object_id]
            body = self._world.object_bodies[object_id]
            pb.resetBasePositionAndOrientation(body, [x, y, obj.height / 2.0 + 0.3], [0, 0, 0, 1])
            pb.resetBaseVelocity(body, [0, 0, 0], [0, 0, 0])
        else:
            colours = ("yellow", "orange", "purple", "pink", "green", "red", "blue")
            colour = colours[sum(map(ord, object_id)) % len(colours)]
            obj = ObjectSpec(id=object_id, cls="toy", colour=colour, position=(x, y, 0.06),
                             room=self._layout.room_at(x, y), on="", shape="box", size=(0.14, 0.14, 0.12),
                             mass=0.2)
            body = build_object(pb, obj, self._layout.rgba(colour), position=(x, y, obj.height / 2.0 + 0.3))
            self._objects[object_id] = obj
            self._world.object_bodies[object_id] = body
            self._body_entity[body] = object_id
        self._scan_cache.clear()
        return self._log_event("object_dropped", object=object_id, xy=[x, y])

    def _do_move_person(self, data: dict[str, Any]) -> SimEvent:
        pb = self._pb
        person_id = data["person"]
        x, y, yaw = data["pose"]
        previous = self._people[person_id]
        spec = replace(previous, pose=Pose2D(x, y, yaw), posture=data["posture"])
        body = self._world.person_bodies[person_id]
        if spec.posture == previous.posture:
            pb.resetBasePositionAndOrientation(body, [x, y, 0.0], pb.getQuaternionFromEuler((0.0, 0.0, yaw + math.pi / 2)))
        else:
            pb.removeBody(body)
            del self._body_entity[body]
            body = build_person(pb, spec, self._layout.rgba)
            self._world.person_bodies[person_id] = body
            self._body_entity[body] = person_id
        self._people[person_id] = spec
        for object_id, (holder, constraint) in list(self._person_holding.items()):
            if holder == person_id:
                hand = self.person_hand_position(person_id)
                pb.changeConstraint(constraint, jointChildPivot=hand, maxForce=500.0)
                pb.resetBasePositionAndOrientation(self._world.object_bodies[object_id], hand, [0, 0, 0, 1])
        self._scan_cache.clear()
        if data.get("quiet"):
            return SimEvent(self._time, "person_moved", {})
        return self._log_event("person_moved", person=person_id, pose=[x, y, yaw], posture=spec.posture)

    def walk_person(self, xy: Sequence[float], yaw: float, person_id: str = "user") -> None:
        """Move a standing person a small step (a walking person, driven every control period; not logged)."""
        if person_id not in self._people:
            raise SimError(f"unknown person {person_id!r}")
        self._do_move_person({"person": person_id, "pose": [float(xy[0]), float(xy[1]), float(yaw)],
                              "posture": "standing", "quiet": True})

    def _do_car_arrived(self, data: dict[str, Any]) -> SimEvent:
        if not self._car_present:
            pb = self._pb
            car = self._layout.furniture_by_id("car")
            body = build_furniture(pb, car, self._layout)
            self._world.furniture_bodies["car"] = [body]
            self._body_entity[body] = "car"
            for obj in self._layout.objects:
                if obj.on == "car":
                    ob = build_object(pb, obj, self._layout.rgba(obj.colour))
                    self._objects[obj.id] = obj
                    self._world.object_bodies[obj.id] = ob
                    self._body_entity[ob] = obj.id
            self._car_present = True
            self._scan_cache.clear()
        return self._log_event("car_arrived", car="car")

    # ----------------------------------------------------------------------------- ground truth
    def object_position(self, object_id: str) -> tuple[float, float, float]:
        """Ground-truth centre of an object (evaluation only; skills must not read it)."""
        if object_id not in self._objects:
            raise SimError(f"unknown object {object_id!r}")
        pos = self._pb.getBasePositionAndOrientation(self._world.object_bodies[object_id])[0]
        return float(pos[0]), float(pos[1]), float(pos[2])

    def person_pose(self, person_id: str = "user") -> Pose2D:
        """Where a person is (ground truth)."""
        return self._people[person_id].pose

    def occupancy_grid(self) -> OccupancyGrid:
        """The static occupancy grid (5 cm) of this layout: walls, furniture, floor devices."""
        if self._grid is None:
            self._grid = self._layout.occupancy_grid(0.05)
        return self._grid

    def scene_graph(self) -> SceneGraph:
        """The current ground-truth scene graph (what the robot sends the cloud as its prior map)."""
        layout = self._layout
        base = layout.scene_graph()
        held_by = {oid: person for oid, (person, _) in self._person_holding.items()}
        for rid, state in self._robots.items():
            for oid in (state.held, state.cargo):
                if oid is not None:
                    held_by[oid] = rid
        objects = []
        for oid, spec in self._objects.items():
            x, y, z = self.object_position(oid)
            on, room = "", layout.room_at(x, y)
            if oid in held_by and held_by[oid] in self._robots:
                room = layout.room_at(*self._base_pose(self._robots[held_by[oid]])[:2]) or room
            elif oid in held_by:
                person = self._people[held_by[oid]]
                room = layout.room_at(person.pose.x, person.pose.y) or room
            else:
                bottom = z - spec.height / 2.0
                if bottom > 0.03:
                    support = self._support_under(x, y, bottom)
                    if support is not None:
                        on, room = support.id, support.room
            objects.append(SceneObject(
                id=oid, cls=spec.cls, colour=spec.colour,
                position=(round(x, 4), round(y, 4), round(z, 4)), room=room, on=on,
                graspable=spec.graspable, held_by=held_by.get(oid, ""),
            ))
        furniture: tuple[Furniture, ...] = base.furniture
        if not self._car_present:
            furniture = tuple(f for f in furniture if f.id != "car")
        devices = tuple(
            Device(id=d.id, kind=d.kind, room=d.room, state=self._device_states[d.id],
                   allowed_states=d.allowed_states, value_range=d.value_range, position=d.position)
            for d in layout.devices
        )
        robots = []
        for rid, state in self._robots.items():
            x, y, yaw = self._base_pose(state)
            robots.append(Robot(id=rid, kind=state.spec.kind, capabilities=state.spec.capabilities,
                                pose=Pose2D(round(x, 4), round(y, 4), round(yaw, 4)),
                                room=layout.room_at(x, y), dock=state.spec.dock))
        people = tuple(Person(id=p.id, name=p.name, pose=p.pose, room=layout.room_at(p.pose.x, p.pose.y))
                       for p in self._people.values())
        return SceneGraph(rooms=base.rooms, furniture=furniture, objects=tuple(objects), devices=devices,
                          robots=tuple(robots), people=people)

    def _support_under(self, x: float, y: float, bottom: float):
        for item in self._layout.furniture:
            if item.cls == "car" and not self._car_present:
                continue
            if abs(bottom - item.top_height) < 0.06 and item.footprint.contains(np.array(x), np.array(y)):
                return item
        return None

    # ------------------------------------------------------------------------------- coverage
    def _mark_cleaned(self, x: float, y: float, radius: float) -> None:
        grid = self.occupancy_grid()
        if self._coverage is None:
            self._coverage = np.zeros(grid.data.shape, dtype=bool)
        r = int(math.ceil(radius / grid.resolution))
        row, col = grid.world_to_cell(x, y)
        r0, r1 = max(row - r, 0), min(row + r + 1, grid.height)
        c0, c1 = max(col - r, 0), min(col + r + 1, grid.width)
        if r0 >= r1 or c0 >= c1:
            return
        rr, cc = np.mgrid[r0:r1, c0:c1]
        disc = (rr - row) ** 2 + (cc - col) ** 2 <= (radius / grid.resolution) ** 2
        self._coverage[r0:r1, c0:c1] |= disc

    def cleaned_fraction(self, room_id: str) -> float:
        """Fraction of a room's free floor the vacuum has passed over (evaluation of ``clean_area``)."""
        grid = self.occupancy_grid()
        room = self._layout.room(room_id)
        gx, gy = grid.cell_centres()
        xs, ys = np.array(room.polygon).T
        inside = (gx >= xs.min()) & (gx <= xs.max()) & (gy >= ys.min()) & (gy <= ys.max())
        inside &= np.vectorize(room.contains)(gx, gy) if len(room.polygon) != 4 else inside
        radius = min((s.model.radius for s in self._robots.values() if s.spec.kind == "vacuum"), default=0.17)
        reachable = grid.inflate(radius).data == 0
        cleanable = OccupancyGrid(grid.resolution, grid.origin_xy, reachable.astype(np.uint8)).inflate(radius).data
        cleanable = (cleanable != 0) & inside & (grid.data == 0)
        if not cleanable.any():
            return 0.0
        covered = self._coverage if self._coverage is not None else np.zeros_like(cleanable)
        return float((covered & cleanable).sum() / cleanable.sum())

    # -------------------------------------------------------------------------------- helpers
    def _robot(self, robot_id: str) -> _RobotState:
        try:
            return self._robots[robot_id]
        except KeyError:
            raise SimError(f"unknown robot {robot_id!r}; this simulation has {sorted(self._robots)}") from None
