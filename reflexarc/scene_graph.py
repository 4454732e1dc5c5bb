"""The home's scene graph: what the robot knows about its world and sends to the cloud.

The simulation exports it, the edge keeps it current, the planner grounds words in it, and the wire
contract carries it (``reflexarc.v1.SceneGraph``). It is plain data with no PyBullet, ROS or gRPC
dependency so that every side can share one definition; ``to_dict``/``from_dict`` give the stable
JSON shape and ``content_hash`` keys caches (same scene, same hash, whatever the field order).
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any

__all__ = [
    "Device",
    "Furniture",
    "Person",
    "Pose2D",
    "Robot",
    "Room",
    "SceneGraph",
    "SceneGraphError",
    "SceneObject",
    "ROBOT_KINDS",
    "ROBOT_RADIUS_BY_KIND",
]

SCENE_GRAPH_VERSION = "1"
ROBOT_KINDS = ("manipulator", "dog", "vacuum")
ROBOT_RADIUS_BY_KIND = {"manipulator": 0.25, "dog": 0.30, "vacuum": 0.17}
"""Footprint radius (m) of each kind of base, as the simulator builds them."""


class SceneGraphError(ValueError):
    """A scene graph that is malformed or refers to entities it does not contain."""


@dataclass(frozen=True)
class Pose2D:
    """A planar pose in the home frame (metres, radians)."""

    x: float
    y: float
    yaw: float = 0.0


@dataclass(frozen=True)
class Room:
    """A room with its floor polygon and the names people use for it (English and Korean)."""

    id: str
    name: str
    polygon: tuple[tuple[float, float], ...]
    aliases: tuple[str, ...] = ()

    def contains(self, x: float, y: float) -> bool:
        """Whether the point lies inside the floor polygon (even-odd rule)."""
        inside = False
        pts = self.polygon
        for i in range(len(pts)):
            x1, y1 = pts[i]
            x2, y2 = pts[(i + 1) % len(pts)]
            if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
                inside = not inside
        return inside


@dataclass(frozen=True)
class Furniture:
    """A static piece of furniture; ``top_height`` is where objects standing on it rest."""

    id: str
    cls: str
    room: str
    pose: Pose2D
    size: tuple[float, float, float]
    colour: str = ""
    top_height: float = 0.0


@dataclass(frozen=True)
class SceneObject:
    """A movable object; ``on`` names the furniture (or vehicle) it rests on, empty on the floor."""

    id: str
    cls: str
    colour: str
    position: tuple[float, float, float]
    room: str
    on: str = ""
    graspable: bool = True
    held_by: str = ""


@dataclass(frozen=True)
class Device:
    """A controllable device; discrete ``allowed_states`` or a numeric ``value_range`` bound its state."""

    id: str
    kind: str
    room: str
    state: str
    allowed_states: tuple[str, ...] = ()
    value_range: tuple[float, float] | None = None
    position: tuple[float, float, float] = (0.0, 0.0, 0.0)

    def accepts(self, state: str) -> bool:
        """Whether ``state`` is a state this device can be set to."""
        if self.value_range is not None:
            try:
                value = float(state)
            except ValueError:
                return False
            return self.value_range[0] <= value <= self.value_range[1]
        return state in self.allowed_states


@dataclass(frozen=True)
class Robot:
    """A robot in the home; ``capabilities`` are the skill names it can execute."""

    id: str
    kind: str
    capabilities: tuple[str, ...]
    pose: Pose2D
    room: str
    dock: str = ""


@dataclass(frozen=True)
class Person:
    """A person who may give commands or receive objects."""

    id: str
    name: str
    pose: Pose2D
    room: str


def _numbers(entity: Any) -> list[float]:
    """Every coordinate of an entity (pose, position, polygon, size, value range)."""
    values: list[float] = []
    for name in ("pose", "position", "polygon", "size", "value_range", "top_height"):
        value = getattr(entity, name, None)
        if value is None:
            continue
        if isinstance(value, Pose2D):
            values += [value.x, value.y, value.yaw]
        elif isinstance(value, (int, float)):
            values.append(float(value))
        else:
            for item in value:
                values += list(item) if isinstance(item, tuple) else [item]
    return values


@dataclass(frozen=True)
class SceneGraph:
    """Everything the planner may refer to; entity ids are unique across all kinds."""

    rooms: tuple[Room, ...] = ()
    furniture: tuple[Furniture, ...] = ()
    objects: tuple[SceneObject, ...] = ()
    devices: tuple[Device, ...] = ()
    robots: tuple[Robot, ...] = ()
    people: tuple[Person, ...] = ()
    version: str = SCENE_GRAPH_VERSION
    _index: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index: dict[str, Any] = {}
        for entity in (*self.rooms, *self.furniture, *self.objects, *self.devices, *self.robots, *self.people):
            if not entity.id:
                raise SceneGraphError(f"{type(entity).__name__} without an id")
            if entity.id in index:
                raise SceneGraphError(f"duplicate entity id {entity.id!r}")
            index[entity.id] = entity
        room_ids = {room.id for room in self.rooms}
        for entity in (*self.furniture, *self.objects, *self.devices, *self.robots, *self.people):
            if entity.room and entity.room not in room_ids:
                raise SceneGraphError(f"{entity.id!r} is in unknown room {entity.room!r}")
        references = [(o.id, "on", o.on) for o in self.objects] + [(o.id, "held_by", o.held_by) for o in self.objects]
        references += [(r.id, "dock", r.dock) for r in self.robots]
        for owner, field_name, target in references:
            if target and target not in index:
                raise SceneGraphError(f"{owner!r}.{field_name} refers to unknown entity {target!r}")
        for entity in index.values():
            if not all(math.isfinite(v) for v in _numbers(entity)):
                raise SceneGraphError(f"{entity.id!r} has a non-finite coordinate")
        object.__setattr__(self, "_index", index)

    def get(self, entity_id: str) -> Any | None:
        """The entity with this id, or None."""
        return self._index.get(entity_id)

    def __contains__(self, entity_id: object) -> bool:
        return entity_id in self._index

    @property
    def entity_ids(self) -> frozenset[str]:
        """Every id in the graph."""
        return frozenset(self._index)

    def room_at(self, x: float, y: float) -> Room | None:
        """The room whose polygon contains the point, if any."""
        return next((room for room in self.rooms if room.contains(x, y)), None)

    def with_object(self, obj: SceneObject) -> SceneGraph:
        """A copy with ``obj`` replacing the object of the same id."""
        return replace(self, objects=tuple(obj if o.id == obj.id else o for o in self.objects))

    def with_device_state(self, device_id: str, state: str) -> SceneGraph:
        """A copy with one device's state changed."""
        return replace(
            self, devices=tuple(replace(d, state=state) if d.id == device_id else d for d in self.devices)
        )

    def to_dict(self) -> dict[str, Any]:
        """The stable JSON shape (lists, not tuples; ``None`` value ranges omitted)."""
        data = {
            "version": self.version,
            "rooms": [asdict(r) for r in self.rooms],
            "furniture": [asdict(f) for f in self.furniture],
            "objects": [asdict(o) for o in self.objects],
            "devices": [asdict(d) for d in self.devices],
            "robots": [asdict(r) for r in self.robots],
            "people": [asdict(p) for p in self.people],
        }
        for device in data["devices"]:
            if device["value_range"] is None:
                del device["value_range"]
        return json.loads(json.dumps(data))

    def to_json(self) -> str:
        """Canonical JSON text (sorted keys), the form that is hashed and stored."""
        return json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False, separators=(",", ":"))

    def content_hash(self) -> str:
        """SHA-256 of the canonical JSON: equal scenes hash equal."""
        return hashlib.sha256(self.to_json().encode("utf-8")).hexdigest()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SceneGraph:
        """Build from the JSON shape; raises SceneGraphError with the offending field on bad input."""
        try:
            return cls(
                version=str(data.get("version", SCENE_GRAPH_VERSION)),
                rooms=tuple(
                    Room(
                        id=r["id"],
                        name=r["name"],
                        polygon=tuple((float(x), float(y)) for x, y in r["polygon"]),
                        aliases=tuple(r.get("aliases", ())),
                    )
                    for r in data.get("rooms", ())
                ),
                furniture=tuple(
                    Furniture(
                        id=f["id"],
                        cls=f["cls"],
                        room=f.get("room", ""),
                        pose=Pose2D(**f["pose"]),
                        size=tuple(float(v) for v in f["size"]),
                        colour=f.get("colour", ""),
                        top_height=float(f.get("top_height", 0.0)),
                    )
                    for f in data.get("furniture", ())
                ),
                objects=tuple(
                    SceneObject(
                        id=o["id"],
                        cls=o["cls"],
                        colour=o.get("colour", ""),
                        position=tuple(float(v) for v in o["position"]),
                        room=o.get("room", ""),
                        on=o.get("on", ""),
                        graspable=bool(o.get("graspable", True)),
                        held_by=o.get("held_by", ""),
                    )
                    for o in data.get("objects", ())
                ),
                devices=tuple(
                    Device(
                        id=d["id"],
                        kind=d["kind"],
                        room=d.get("room", ""),
                        state=str(d["state"]),
                        allowed_states=tuple(str(s) for s in d.get("allowed_states", ())),
                        value_range=tuple(float(v) for v in d["value_range"]) if d.get("value_range") else None,
                        position=tuple(float(v) for v in d.get("position", (0.0, 0.0, 0.0))),
                    )
                    for d in data.get("devices", ())
                ),
                robots=tuple(
                    Robot(
                        id=r["id"],
                        kind=r["kind"],
                        capabilities=tuple(r.get("capabilities", ())),
                        pose=Pose2D(**r["pose"]),
                        room=r.get("room", ""),
                        dock=r.get("dock", ""),
                    )
                    for r in data.get("robots", ())
                ),
                people=tuple(
                    Person(id=p["id"], name=p.get("name", p["id"]), pose=Pose2D(**p["pose"]), room=p.get("room", ""))
                    for p in data.get("people", ())
                ),
            )
        except SceneGraphError:
            raise
        except (KeyError, TypeError, ValueError) as exc:
            raise SceneGraphError(f"malformed scene graph: {type(exc).__name__}: {exc}") from exc

    @classmethod
    def from_json(cls, text: str) -> SceneGraph:
        """Parse JSON text; raises SceneGraphError on malformed input."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SceneGraphError(f"scene graph is not valid JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise SceneGraphError("scene graph JSON must be an object")
        return cls.from_dict(data)
