"""The home as data: rooms, walls, doorways, furniture, objects, devices, robots and people.

Loaded from ``sim/scenes/home.yaml`` without PyBullet, so the cloud side, the edge and the tests can
share the same static world: :meth:`HomeLayout.scene_graph` is the initial scene graph and
:meth:`HomeLayout.occupancy_grid` the static map for global planning. The simulator builds its bodies
from the same layout, which is what keeps graph, grid and physics in agreement.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from reflexarc.occupancy_grid import OccupancyGrid, OrientedBox
from reflexarc.scene_graph import Device, Furniture, Person, Pose2D, Robot, Room, SceneGraph, SceneObject

__all__ = [
    "DEFAULT_HOME_PATH",
    "DeviceSpec",
    "Doorway",
    "FurnitureSpec",
    "HomeLayout",
    "LayoutError",
    "ObjectSpec",
    "PersonSpec",
    "RobotSpec",
    "WallSpec",
    "load_home_layout",
]

DEFAULT_HOME_PATH = Path(__file__).resolve().parent / "scenes" / "home.yaml"
DOORWAY_WIDTH_RANGE = (0.8, 1.0)
_GRID_MARGIN_M = 0.5


class LayoutError(ValueError):
    """A home description that is malformed or inconsistent (names the offending entry)."""


@dataclass(frozen=True)
class WallSpec:
    """One straight piece of wall (already split at doorways) with its footprint box."""

    box: OrientedBox
    height: float
    colour: str
    kind: str = "wall"


@dataclass(frozen=True)
class Doorway:
    """An opening in a wall between two rooms; ``width`` is the clear passage."""

    id: str
    rooms: tuple[str, str]
    center: tuple[float, float]
    width: float
    normal: tuple[float, float] = (1.0, 0.0)  # unit vector across the opening (perpendicular to the wall)


@dataclass(frozen=True)
class FurnitureSpec:
    """A static piece of furniture: footprint centre/yaw, size (length, width, height), colour."""

    id: str
    cls: str
    room: str
    pose: Pose2D
    size: tuple[float, float, float]
    colour: str
    top_height: float
    label: str = ""

    @property
    def footprint(self) -> OrientedBox:
        """The rectangle it covers on the floor."""
        return OrientedBox(self.pose.x, self.pose.y, self.size[0], self.size[1], self.pose.yaw)


@dataclass(frozen=True)
class ObjectSpec:
    """A movable object; ``position`` is its centre; ``shape``/``size`` as in the YAML comment."""

    id: str
    cls: str
    colour: str
    position: tuple[float, float, float]
    room: str
    on: str
    shape: str
    size: tuple[float, ...]
    mass: float
    graspable: bool = True

    @property
    def height(self) -> float:
        """Vertical extent of the object."""
        return _shape_height(self.shape, self.size)

    @property
    def radius(self) -> float:
        """Radius of the smallest vertical cylinder around it (for clearance checks)."""
        if self.shape == "box":
            return 0.5 * math.hypot(self.size[0], self.size[1])
        return float(self.size[0])


@dataclass(frozen=True)
class DeviceSpec:
    """A device with state; ``footprint`` (sx, sy, sz) when it is a physical floor obstacle."""

    id: str
    kind: str
    room: str
    state: str
    allowed_states: tuple[str, ...]
    value_range: tuple[float, float] | None
    position: tuple[float, float, float]
    footprint: tuple[float, float, float] | None = None
    robot: str = ""

    def to_device(self, state: str | None = None) -> Device:
        """The scene-graph device, optionally with another state."""
        return Device(
            id=self.id,
            kind=self.kind,
            room=self.room,
            state=self.state if state is None else state,
            allowed_states=self.allowed_states,
            value_range=self.value_range,
            position=self.position,
        )


@dataclass(frozen=True)
class RobotSpec:
    """A robot's identity, capabilities (skill names), start pose, dock and footprint radius."""

    id: str
    kind: str
    capabilities: tuple[str, ...]
    start: Pose2D
    dock: str
    radius: float


@dataclass(frozen=True)
class PersonSpec:
    """A person in the home (``posture`` is ``seated`` or ``standing``)."""

    id: str
    name: str
    pose: Pose2D
    posture: str
    radius: float


@dataclass(frozen=True)
class HomeLayout:
    """The complete static description of one home (immutable; ``randomized`` returns variants)."""

    name: str
    rooms: tuple[Room, ...]
    walls: tuple[WallSpec, ...]
    doorways: tuple[Doorway, ...]
    furniture: tuple[FurnitureSpec, ...]
    objects: tuple[ObjectSpec, ...]
    devices: tuple[DeviceSpec, ...]
    robots: tuple[RobotSpec, ...]
    people: tuple[PersonSpec, ...]
    colours: Mapping[str, tuple[float, float, float, float]] = field(default_factory=dict)
    room_floors: Mapping[str, str] = field(default_factory=dict)
    outside_rooms: frozenset[str] = frozenset()
    seed: int = 0

    # ------------------------------------------------------------------------------- look-ups
    def room(self, room_id: str) -> Room:
        """The room with this id (KeyError if absent)."""
        return _by_id(self.rooms, room_id)

    def furniture_by_id(self, furniture_id: str) -> FurnitureSpec:
        """The furniture with this id (KeyError if absent)."""
        return _by_id(self.furniture, furniture_id)

    def object_by_id(self, object_id: str) -> ObjectSpec:
        """The object with this id (KeyError if absent)."""
        return _by_id(self.objects, object_id)

    def device(self, device_id: str) -> DeviceSpec:
        """The device with this id (KeyError if absent)."""
        return _by_id(self.devices, device_id)

    def robot(self, robot_id: str) -> RobotSpec:
        """The robot with this id (KeyError if absent)."""
        return _by_id(self.robots, robot_id)

    def person(self, person_id: str) -> PersonSpec:
        """The person with this id (KeyError if absent)."""
        return _by_id(self.people, person_id)

    def room_at(self, x: float, y: float) -> str:
        """Id of the room containing the point, or empty when none does."""
        for room in self.rooms:
            if room.contains(x, y):
                return room.id
        return ""

    def rgba(self, colour: str) -> tuple[float, float, float, float]:
        """RGBA for a colour name (grey for unknown names, so a typo stays visible but harmless)."""
        return tuple(self.colours.get(colour, (0.5, 0.5, 0.5, 1.0)))  # type: ignore[return-value]

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(xmin, ymin, xmax, ymax)`` of all rooms plus a margin: the area the grid covers."""
        pts = np.array([p for room in self.rooms for p in room.polygon], dtype=np.float64)
        return (
            float(pts[:, 0].min()) - _GRID_MARGIN_M,
            float(pts[:, 1].min()) - _GRID_MARGIN_M,
            float(pts[:, 0].max()) + _GRID_MARGIN_M,
            float(pts[:, 1].max()) + _GRID_MARGIN_M,
        )

    # --------------------------------------------------------------------------- derived views
    def static_obstacles(self) -> tuple[OrientedBox, ...]:
        """Footprints of everything fixed that a robot can bump into: walls, furniture, floor devices."""
        boxes = [wall.box for wall in self.walls]
        boxes += [item.footprint for item in self.furniture]
        for dev in self.devices:
            if dev.footprint is not None:
                boxes.append(OrientedBox(dev.position[0], dev.position[1], dev.footprint[0], dev.footprint[1]))
        return tuple(boxes)

    def occupancy_grid(self, resolution: float = 0.05) -> OccupancyGrid:
        """The static occupancy grid (walls, furniture, floor devices; no movable objects or people)."""
        return OccupancyGrid.from_boxes(self.static_obstacles(), self.bounds, resolution)

    def scene_graph(self) -> SceneGraph:
        """The initial scene graph of this layout (every robot and person at its start pose)."""
        return SceneGraph(
            rooms=self.rooms,
            furniture=tuple(
                Furniture(
                    id=f.id,
                    cls=f.cls,
                    room=f.room,
                    pose=f.pose,
                    size=f.size,
                    colour=f.colour,
                    top_height=f.top_height,
                )
                for f in self.furniture
            ),
            objects=tuple(
                SceneObject(
                    id=o.id,
                    cls=o.cls,
                    colour=o.colour,
                    position=o.position,
                    room=o.room,
                    on=o.on,
                    graspable=o.graspable,
                )
                for o in self.objects
            ),
            devices=tuple(d.to_device() for d in self.devices),
            robots=tuple(
                Robot(
                    id=r.id,
                    kind=r.kind,
                    capabilities=r.capabilities,
                    pose=r.start,
                    room=self.room_at(r.start.x, r.start.y),
                    dock=r.dock,
                )
                for r in self.robots
            ),
            people=tuple(
                Person(id=p.id, name=p.name, pose=p.pose, room=self.room_at(p.pose.x, p.pose.y))
                for p in self.people
            ),
        )

    def with_robots(self, robot_ids: Sequence[str]) -> HomeLayout:
        """A copy holding only the named robots (in the given order); docks of absent robots are free."""
        robots = tuple(self.robot(rid) for rid in robot_ids)
        present_docks = {r.dock for r in robots}
        devices = tuple(
            replace(d, state="free") if d.kind == "dock" and d.id not in present_docks else d for d in self.devices
        )
        return replace(self, robots=robots, devices=devices)

    def randomized(self, seed: int) -> HomeLayout:
        """A seeded variant: object jitter, floor clutter and start-pose jitter; seed 0 is the canonical home."""
        if seed == 0:
            return self
        return _randomize(self, np.random.default_rng(seed), seed)


# ------------------------------------------------------------------------------------- loading
def load_home_layout(path: str | Path | None = None) -> HomeLayout:
    """Load and validate a home description (the seed home when ``path`` is None)."""
    path = Path(path) if path is not None else DEFAULT_HOME_PATH
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise LayoutError(f"cannot read home layout {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise LayoutError(f"home layout {path} must be a mapping")
    try:
        return _parse_layout(data)
    except LayoutError:
        raise
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise LayoutError(f"malformed home layout {path}: {type(exc).__name__}: {exc}") from exc


def _parse_layout(data: dict[str, Any]) -> HomeLayout:
    colours = {str(k): tuple(float(c) for c in v) for k, v in (data.get("colours") or {}).items()}
    rooms = tuple(
        Room(
            id=str(r["id"]),
            name=str(r.get("name", r["id"])),
            polygon=tuple((float(x), float(y)) for x, y in r["polygon"]),
            aliases=tuple(str(a) for a in r.get("aliases", ())),
        )
        for r in data["rooms"]
    )
    room_ids = {r.id for r in rooms}
    room_floors = {str(r["id"]): str(r.get("floor", "grey")) for r in data["rooms"]}
    outside = frozenset(str(r["id"]) for r in data["rooms"] if r.get("outside"))

    doorways = []
    for d in data.get("doorways", ()):
        doorway = Doorway(
            id=str(d["id"]),
            rooms=(str(d["rooms"][0]), str(d["rooms"][1])),
            center=(float(d["center"][0]), float(d["center"][1])),
            width=float(d["width"]),
        )
        if not DOORWAY_WIDTH_RANGE[0] <= doorway.width <= DOORWAY_WIDTH_RANGE[1]:
            raise LayoutError(f"doorway {doorway.id!r} is {doorway.width} m wide, outside {DOORWAY_WIDTH_RANGE}")
        for rid in doorway.rooms:
            if rid not in room_ids:
                raise LayoutError(f"doorway {doorway.id!r} names unknown room {rid!r}")
        doorways.append(doorway)

    defaults = dict(data.get("wall_defaults") or {})
    walls: list[WallSpec] = []
    used_doorways: set[str] = set()
    for w in data.get("walls", ()):
        spec = {**defaults, **w}
        pieces, used, normal = _split_wall(
            (float(spec["from"][0]), float(spec["from"][1])),
            (float(spec["to"][0]), float(spec["to"][1])),
            float(spec.get("thickness", 0.1)),
            doorways,
        )
        used_doorways |= used
        doorways = [replace(d, normal=normal) if d.id in used else d for d in doorways]
        walls += [
            WallSpec(box=box, height=float(spec.get("height", 2.0)), colour=str(spec.get("colour", "wall")),
                     kind=str(spec.get("kind", "wall")))
            for box in pieces
        ]
    for doorway in doorways:
        if doorway.id not in used_doorways:
            raise LayoutError(f"doorway {doorway.id!r} does not lie on any wall")

    furniture = tuple(
        FurnitureSpec(
            id=str(f["id"]),
            cls=str(f["cls"]),
            room=str(f["room"]),
            pose=_pose(f["pose"]),
            size=tuple(float(v) for v in f["size"]),  # type: ignore[arg-type]
            colour=str(f.get("colour", "")),
            top_height=float(f.get("top_height", f["size"][2])),
            label=str(f.get("label", "")),
        )
        for f in data.get("furniture", ())
    )
    furniture_by_id = {f.id: f for f in furniture}

    objects = []
    for o in data.get("objects", ()):
        shape = str(o.get("shape", "box"))
        size = tuple(float(v) for v in o["size"])
        on = str(o.get("on", o.get(True, "")) or "")  # YAML 1.1 reads a bare `on:` key as True
        x, y = float(o["position"][0]), float(o["position"][1])
        height = _shape_height(shape, size)
        if on:
            if on not in furniture_by_id:
                raise LayoutError(f"object {o['id']!r} rests on unknown furniture {on!r}")
            support = furniture_by_id[on]
            if not support.footprint.contains(np.array(x), np.array(y)):
                raise LayoutError(f"object {o['id']!r} at ({x}, {y}) is not above its support {on!r}")
            z = support.top_height + height / 2.0
            room = support.room
        else:
            z = height / 2.0
            room = str(o.get("room", "")) or _room_at(rooms, x, y)
        if len(o["position"]) > 2:
            z = float(o["position"][2])
        objects.append(
            ObjectSpec(
                id=str(o["id"]),
                cls=str(o["cls"]),
                colour=str(o.get("colour", "")),
                position=(x, y, round(z, 6)),
                room=room,
                on=on,
                shape=shape,
                size=size,
                mass=float(o.get("mass", 0.2)),
                graspable=bool(o.get("graspable", True)),
            )
        )

    devices = tuple(
        DeviceSpec(
            id=str(d["id"]),
            kind=str(d["kind"]),
            room=str(d.get("room", "")),
            state=str(d["state"]),
            allowed_states=tuple(str(s) for s in d.get("allowed_states", ())),
            value_range=(float(d["value_range"][0]), float(d["value_range"][1])) if d.get("value_range") else None,
            position=tuple(float(v) for v in d["position"]),  # type: ignore[arg-type]
            footprint=tuple(float(v) for v in d["footprint"]) if d.get("footprint") else None,  # type: ignore[arg-type]
            robot=str(d.get("robot", "")),
        )
        for d in data.get("devices", ())
    )
    robots = tuple(
        RobotSpec(
            id=str(r["id"]),
            kind=str(r["kind"]),
            capabilities=tuple(str(c) for c in r.get("capabilities", ())),
            start=_pose(r["start"]),
            dock=str(r.get("dock", "")),
            radius=float(r.get("radius", 0.25)),
        )
        for r in data.get("robots", ())
    )
    people = tuple(
        PersonSpec(
            id=str(p["id"]),
            name=str(p.get("name", p["id"])),
            pose=_pose(p["pose"]),
            posture=str(p.get("posture", "standing")),
            radius=float(p.get("radius", 0.3)),
        )
        for p in data.get("people", ())
    )
    layout = HomeLayout(
        name=str(data.get("name", "home")),
        rooms=rooms,
        walls=tuple(walls),
        doorways=tuple(doorways),
        furniture=furniture,
        objects=tuple(objects),
        devices=devices,
        robots=robots,
        people=people,
        colours=colours,
        room_floors=room_floors,
        outside_rooms=outside,
    )
    layout.scene_graph()  # validates unique ids and room references
    return layout


def _pose(values: Sequence[float]) -> Pose2D:
    return Pose2D(float(values[0]), float(values[1]), float(values[2]) if len(values) > 2 else 0.0)


def _shape_height(shape: str, size: Sequence[float]) -> float:
    if shape in ("cylinder", "bowl"):
        return float(size[1])
    if shape == "sphere":
        return 2.0 * float(size[0])
    if shape == "box":
        return float(size[2])
    raise LayoutError(f"unknown object shape {shape!r}")


def _room_at(rooms: Sequence[Room], x: float, y: float) -> str:
    return next((r.id for r in rooms if r.contains(x, y)), "")


def _by_id(items: Sequence[Any], entity_id: str) -> Any:
    for item in items:
        if item.id == entity_id:
            return item
    raise KeyError(entity_id)


def _split_wall(
    start: tuple[float, float],
    end: tuple[float, float],
    thickness: float,
    doorways: Sequence[Doorway],
) -> tuple[list[OrientedBox], set[str], tuple[float, float]]:
    """Cut the doorway openings out of one wall line; outer ends are extended to close corners.

    Returns the wall pieces, the ids of the doorways on this wall and the wall's unit normal.
    """
    sx, sy = start
    ex, ey = end
    length = math.hypot(ex - sx, ey - sy)
    if length <= 0:
        raise LayoutError(f"wall from {start} to {end} has zero length")
    ux, uy = (ex - sx) / length, (ey - sy) / length
    gaps: list[tuple[float, float]] = []
    used: set[str] = set()
    for d in doorways:
        dx, dy = d.center[0] - sx, d.center[1] - sy
        t = dx * ux + dy * uy
        off = abs(-dx * uy + dy * ux)
        if off <= thickness / 2.0 + 1e-6 and d.width / 2.0 < t < length - d.width / 2.0:
            gaps.append((t - d.width / 2.0, t + d.width / 2.0))
            used.add(d.id)
    gaps.sort()
    pieces: list[tuple[float, float]] = []
    cursor = -thickness / 2.0
    for g0, g1 in gaps:
        if g0 > cursor:
            pieces.append((cursor, g0))
        cursor = max(cursor, g1)
    if length + thickness / 2.0 > cursor:
        pieces.append((cursor, length + thickness / 2.0))
    yaw = math.atan2(uy, ux)
    boxes = [
        OrientedBox(sx + ux * (a + b) / 2.0, sy + uy * (a + b) / 2.0, b - a, thickness, yaw)
        for a, b in pieces
        if b - a > 1e-6
    ]
    return boxes, used, (round(-uy, 9) + 0.0, round(ux, 9) + 0.0)


# ------------------------------------------------------------------------------- randomisation
_OBJECT_JITTER_M = 0.04
_FLOOR_JITTER_M = 0.35
_START_JITTER_M = 0.08
_START_YAW_JITTER = 0.35
_DOORWAY_KEEPOUT_M = 0.9
_CLUTTER_ROOMS = ("living_room", "bedroom", "kitchen")
_CLUTTER_COLOURS = ("purple", "pink", "green", "blue", "red")


def _randomize(layout: HomeLayout, rng: np.random.Generator, seed: int) -> HomeLayout:
    """Seeded variations that keep the home valid: supports stay under objects, floors stay passable."""
    grid = layout.occupancy_grid()
    furniture_by_id = {f.id: f for f in layout.furniture}
    keepout = [(d.center[0], d.center[1], _DOORWAY_KEEPOUT_M) for d in layout.doorways]
    keepout += [(r.start.x, r.start.y, r.radius + 0.5) for r in layout.robots]
    keepout += [(p.pose.x, p.pose.y, p.radius + 0.6) for p in layout.people]

    def floor_spot_ok(x: float, y: float, radius: float, taken: list[tuple[float, float, float]]) -> bool:
        if not layout.room_at(x, y) or layout.room_at(x, y) in layout.outside_rooms:
            return False
        if any(math.hypot(x - kx, y - ky) < kr + radius for kx, ky, kr in keepout + taken):
            return False
        angles = np.linspace(0.0, 2.0 * math.pi, 12, endpoint=False)
        ring = radius + 0.35  # leave room for a robot to pass or approach
        xs = np.concatenate([[x], x + ring * np.cos(angles), x + 0.5 * ring * np.cos(angles)])
        ys = np.concatenate([[y], y + ring * np.sin(angles), y + 0.5 * ring * np.sin(angles)])
        return not bool(grid.occupied_at(xs, ys).any())

    taken: list[tuple[float, float, float]] = []
    objects: list[ObjectSpec] = []
    for obj in layout.objects:
        if obj.on:
            support = furniture_by_id[obj.on]
            for _ in range(20):
                x = obj.position[0] + rng.uniform(-_OBJECT_JITTER_M, _OBJECT_JITTER_M)
                y = obj.position[1] + rng.uniform(-_OBJECT_JITTER_M, _OBJECT_JITTER_M)
                inner = OrientedBox(support.pose.x, support.pose.y, support.size[0] - 2 * obj.radius - 0.04,
                                    support.size[1] - 2 * obj.radius - 0.04, support.pose.yaw)
                if inner.contains(np.array(x), np.array(y)):
                    objects.append(replace(obj, position=(round(x, 4), round(y, 4), obj.position[2])))
                    break
            else:
                objects.append(obj)
            continue
        placed = obj
        for _ in range(50):
            x = obj.position[0] + rng.uniform(-_FLOOR_JITTER_M, _FLOOR_JITTER_M)
            y = obj.position[1] + rng.uniform(-_FLOOR_JITTER_M, _FLOOR_JITTER_M)
            if layout.room_at(x, y) == obj.room and floor_spot_ok(x, y, obj.radius, taken):
                placed = replace(obj, position=(round(x, 4), round(y, 4), obj.position[2]))
                break
        taken.append((placed.position[0], placed.position[1], placed.radius))
        objects.append(placed)

    n_clutter = int(rng.integers(1, 4))
    for k in range(n_clutter):
        room_id = _CLUTTER_ROOMS[int(rng.integers(len(_CLUTTER_ROOMS)))]
        xmin, ymin = np.min(layout.room(room_id).polygon, axis=0)
        xmax, ymax = np.max(layout.room(room_id).polygon, axis=0)
        side = round(float(rng.uniform(0.08, 0.16)), 3)
        for _ in range(100):
            x, y = float(rng.uniform(xmin, xmax)), float(rng.uniform(ymin, ymax))
            if layout.room_at(x, y) == room_id and floor_spot_ok(x, y, side * 0.75, taken):
                colour = _CLUTTER_COLOURS[int(rng.integers(len(_CLUTTER_COLOURS)))]
                objects.append(
                    ObjectSpec(
                        id=f"clutter_{k + 1}",
                        cls="block",
                        colour=colour,
                        position=(round(x, 4), round(y, 4), round(side / 2.0, 4)),
                        room=room_id,
                        on="",
                        shape="box",
                        size=(side, side, side),
                        mass=0.1,
                    )
                )
                taken.append((x, y, side * 0.75))
                break

    robots = []
    devices = list(layout.devices)
    for robot in layout.robots:
        start = robot.start
        inflated = grid.inflate(robot.radius + 0.02)
        for _ in range(20):
            x = start.x + rng.uniform(-_START_JITTER_M, _START_JITTER_M)
            y = start.y + rng.uniform(-_START_JITTER_M, _START_JITTER_M)
            yaw = start.yaw + rng.uniform(-_START_YAW_JITTER, _START_YAW_JITTER)
            if not inflated.occupied_at(np.array(x), np.array(y)):
                start = Pose2D(round(x, 4), round(y, 4), round(yaw, 4))
                break
        robots.append(replace(robot, start=start))
        devices = [
            replace(d, position=(start.x, start.y, d.position[2])) if d.id == robot.dock else d for d in devices
        ]
    return replace(layout, objects=tuple(objects), robots=tuple(robots), devices=tuple(devices), seed=seed)
