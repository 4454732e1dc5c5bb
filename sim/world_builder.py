"""Builds the static home (floor, walls, furniture, devices, person, car) and its movable objects in PyBullet.

Every piece of furniture is one static body whose *collision* shape is exactly the footprint box of the
layout (solid from the floor to its height, so the occupancy grid, the lidar and the physics agree) and
whose extra *visual* parts (table legs, sofa back, bed linen, car cabin, ...) are collision-free links
that only make the pictures recognisable. Tables are therefore solid volumes for collision: robots
cannot drive under them, which the grid also says.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from sim.home_layout import DeviceSpec, FurnitureSpec, HomeLayout, ObjectSpec, PersonSpec

__all__ = ["BuiltWorld", "Part", "build_object", "build_world", "device_rgba", "visual_parts_for"]

RGBA = tuple[float, float, float, float]


@dataclass(frozen=True)
class Part:
    """One visual shape in a body's local frame: ``box`` half extents, ``cylinder`` (r, length), ``sphere`` (r,)."""

    shape: str
    dims: tuple[float, ...]
    pos: tuple[float, float, float]
    rgba: RGBA
    rpy: tuple[float, float, float] = (0.0, 0.0, 0.0)


@dataclass
class BuiltWorld:
    """Body ids of what :func:`build_world` created, keyed the way the simulator needs them."""

    entity_of_body: dict[int, str] = field(default_factory=dict)
    furniture_bodies: dict[str, list[int]] = field(default_factory=dict)
    object_bodies: dict[str, int] = field(default_factory=dict)
    device_bodies: dict[str, tuple[int, tuple[int, ...]]] = field(default_factory=dict)  # id -> (body, indicators)
    person_bodies: dict[str, int] = field(default_factory=dict)
    floor_body: int = -1


def _shade(rgba: Sequence[float], factor: float) -> RGBA:
    return (
        min(rgba[0] * factor, 1.0),
        min(rgba[1] * factor, 1.0),
        min(rgba[2] * factor, 1.0),
        rgba[3],
    )


def _visual(pb, part: Part) -> int:
    orn = pb.getQuaternionFromEuler(part.rpy)
    if part.shape == "box":
        return pb.createVisualShape(pb.GEOM_BOX, halfExtents=part.dims, rgbaColor=part.rgba,
                                    visualFramePosition=part.pos, visualFrameOrientation=orn)
    if part.shape == "cylinder":
        return pb.createVisualShape(pb.GEOM_CYLINDER, radius=part.dims[0], length=part.dims[1],
                                    rgbaColor=part.rgba, visualFramePosition=part.pos,
                                    visualFrameOrientation=orn)
    if part.shape == "sphere":
        return pb.createVisualShape(pb.GEOM_SPHERE, radius=part.dims[0], rgbaColor=part.rgba,
                                    visualFramePosition=part.pos, visualFrameOrientation=orn)
    raise ValueError(f"unknown visual shape {part.shape!r}")


_CUBE_FACES = ((0, 2, 3), (0, 3, 1), (4, 5, 7), (4, 7, 6), (0, 1, 5), (0, 5, 4),
               (2, 6, 7), (2, 7, 3), (0, 4, 6), (0, 6, 2), (1, 3, 7), (1, 7, 5))


def _boxes_mesh(
    half_extents: Sequence[Sequence[float]], centres: Sequence[Sequence[float]]
) -> tuple[list[list[float]], list[int]]:
    """Vertices and triangle indices (outward-facing) of a set of axis-aligned boxes in the body frame."""
    vertices: list[list[float]] = []
    indices: list[int] = []
    for (hx, hy, hz), (cx, cy, cz) in zip(half_extents, centres, strict=True):
        base = len(vertices)
        for sx in (-1, 1):
            for sy in (-1, 1):
                for sz in (-1, 1):
                    vertices.append([cx + sx * hx, cy + sy * hy, cz + sz * hz])
        indices.extend(base + i for face in _CUBE_FACES for i in face)
    return vertices, indices


def _static_body(
    pb,
    position: Sequence[float],
    yaw: float,
    collision_half_extents: Sequence[Sequence[float]],
    collision_centres: Sequence[Sequence[float]],
    parts: Sequence[Part],
) -> int:
    """A fixed body: compound box collision on the base, one visual link per part (first part on the base)."""
    if collision_half_extents:
        # static geometry as one triangle mesh: Bullet ray-tests meshes with exact ray/triangle checks,
        # several times faster than its GJK test against box shapes (the lidar casts thousands of rays)
        vertices, indices = _boxes_mesh(collision_half_extents, collision_centres)
        col = pb.createCollisionShape(pb.GEOM_MESH, vertices=vertices, indices=indices)
    else:
        col = -1
    base_vis = _visual(pb, parts[0]) if parts else -1
    links = [_visual(pb, part) for part in parts[1:]]
    n = len(links)
    return pb.createMultiBody(
        baseMass=0.0,
        baseCollisionShapeIndex=col,
        baseVisualShapeIndex=base_vis,
        basePosition=list(position),
        baseOrientation=pb.getQuaternionFromEuler((0.0, 0.0, yaw)),
        linkMasses=[0.0] * n,
        linkCollisionShapeIndices=[-1] * n,
        linkVisualShapeIndices=links,
        linkPositions=[[0.0, 0.0, 0.0]] * n,
        linkOrientations=[[0.0, 0.0, 0.0, 1.0]] * n,
        linkInertialFramePositions=[[0.0, 0.0, 0.0]] * n,
        linkInertialFrameOrientations=[[0.0, 0.0, 0.0, 1.0]] * n,
        linkParentIndices=[0] * n,
        linkJointTypes=[pb.JOINT_FIXED] * n,
        linkJointAxis=[[0.0, 0.0, 1.0]] * n,
        useMaximalCoordinates=True,  # static rigid bodies cost nothing per step; multibody links would
    )


# ------------------------------------------------------------------------------ furniture looks
def visual_parts_for(item: FurnitureSpec, rgba: RGBA, palette) -> list[Part]:
    """Visual parts of one piece of furniture in its local frame (origin on the floor at the centre)."""
    length, width, height = item.size
    hl, hw = length / 2.0, width / 2.0
    dark = _shade(rgba, 0.6)
    light = _shade(rgba, 1.25)
    cls = item.cls
    if cls == "table":
        top = 0.04
        leg = 0.025
        parts = [Part("box", (hl, hw, top / 2), (0.0, 0.0, height - top / 2), rgba)]
        for sx in (-1, 1):
            for sy in (-1, 1):
                parts.append(Part("box", (leg, leg, (height - top) / 2),
                                  (sx * (hl - 0.06), sy * (hw - 0.06), (height - top) / 2), dark))
        return parts
    if cls == "counter":
        return [
            Part("box", (hl, hw - 0.02, (height - 0.04) / 2), (0.0, 0.02, (height - 0.04) / 2), rgba),
            Part("box", (hl, hw, 0.02), (0.0, 0.0, height - 0.02), palette("grey")),
            Part("box", (hl - 0.02, 0.005, 0.01), (0.0, -hw + 0.015, height - 0.12), dark),
        ]
    if cls == "sink":
        return [
            Part("box", (hl, hw - 0.02, (height - 0.04) / 2), (0.0, 0.02, (height - 0.04) / 2), palette("white")),
            Part("box", (hl, hw, 0.02), (0.0, 0.0, height - 0.02), rgba),
            Part("box", (hl * 0.55, hw * 0.55, 0.004), (0.0, -0.02, height + 0.002), palette("grey")),
            Part("cylinder", (0.015, 0.25), (0.0, hw - 0.08, height + 0.125), palette("silver")),
        ]
    if cls == "fridge":
        return [
            Part("box", (hl, hw, height / 2), (0.0, 0.0, height / 2), rgba),
            Part("box", (hl - 0.02, 0.004, 0.003), (0.0, -hw - 0.002, height * 0.62), palette("grey")),
            Part("box", (0.012, 0.02, 0.2), (hl - 0.08, -hw - 0.02, height * 0.78), palette("silver")),
            Part("box", (0.012, 0.02, 0.15), (hl - 0.08, -hw - 0.02, height * 0.45), palette("silver")),
        ]
    if cls == "sofa":
        seat = item.top_height
        return [
            Part("box", (hl, hw, seat / 2 - 0.05), (0.0, 0.0, seat / 2 - 0.05), rgba),
            Part("box", (hl - 0.15, hw - 0.12, 0.05), (0.0, -0.1, seat - 0.05), light),
            Part("box", (hl, 0.12, height / 2), (0.0, hw - 0.12, height / 2), rgba),
            Part("box", (0.13, hw, (seat + 0.15) / 2), (-hl + 0.13, 0.0, (seat + 0.15) / 2), dark),
            Part("box", (0.13, hw, (seat + 0.15) / 2), (hl - 0.13, 0.0, (seat + 0.15) / 2), dark),
        ]
    if cls == "tv_stand":
        return [
            Part("box", (hl, hw, height / 2), (0.0, 0.0, height / 2), rgba),
            Part("box", (0.08, 0.06, 0.05), (0.0, 0.0, height + 0.05), palette("grey")),
            Part("box", (0.6, 0.025, 0.36), (0.0, 0.0, height + 0.45), palette("black")),
            Part("box", (0.57, 0.003, 0.33), (0.0, 0.026, height + 0.45), palette("navy")),
        ]
    if cls == "shelf":
        parts = [Part("box", (hl, 0.01, height / 2), (0.0, hw - 0.01, height / 2), dark)]
        for sx in (-1, 1):
            parts.append(Part("box", (0.015, hw, height / 2), (sx * (hl - 0.015), 0.0, height / 2), rgba))
        book_colours = ("red", "blue", "green", "yellow", "white", "purple")
        for k in range(5):
            z = 0.02 + k * (height - 0.04) / 4
            parts.append(Part("box", (hl, hw, 0.015), (0.0, 0.0, z), rgba))
            if k < 4:
                for b in range(4):
                    colour = palette(book_colours[(k + b) % len(book_colours)])
                    parts.append(Part("box", (0.04, hw * 0.7, 0.11),
                                      (-hl + 0.15 + b * 0.25, 0.0, z + 0.125), colour))
        return parts
    if cls == "bed":
        frame_h = 0.3
        return [
            Part("box", (hl, hw, frame_h / 2), (0.0, 0.0, frame_h / 2), palette("dark_brown")),
            Part("box", (hl - 0.02, hw - 0.02, (height - frame_h) / 2), (0.0, 0.0, (height + frame_h) / 2),
                 palette("white")),
            Part("box", (hl * 0.62, hw, 0.03), (hl * 0.36, 0.0, height + 0.005), rgba),
            Part("box", (0.17, hw * 0.75, 0.06), (-hl + 0.25, 0.0, height + 0.04), palette("white")),
            Part("box", (0.04, hw, 0.45), (-hl + 0.04, 0.0, 0.45), palette("dark_brown")),
        ]
    if cls == "car":
        return _car_parts(item, rgba, palette)
    return [Part("box", (hl, hw, height / 2), (0.0, 0.0, height / 2), rgba)]


def _car_parts(item: FurnitureSpec, rgba: RGBA, palette) -> list[Part]:
    """A sleek saloon (the Xiaomi SU7 stand-in): rear (trunk, open) towards -x, bonnet towards +x."""
    length, width, height = item.size
    hl, hw = length / 2.0, width / 2.0
    deck = item.top_height
    glass = (0.15, 0.2, 0.25, 1.0)
    black = palette("black")
    parts = [
        Part("box", (hl, hw - 0.03, (deck - 0.15) / 2), (0.0, 0.0, 0.15 + (deck - 0.15) / 2), rgba),
        Part("box", (1.3, hw - 0.08, 0.2), (0.15, 0.0, deck + 0.2), rgba),
        Part("box", (1.15, hw - 0.1, 0.16), (0.15, 0.0, deck + 0.52), glass),
        Part("box", (1.0, hw - 0.12, 0.045), (0.1, 0.0, deck + 0.72), rgba),
        Part("box", (0.03, hw - 0.05, 0.04), (-hl + 0.02, 0.0, deck - 0.1), (0.8, 0.05, 0.05, 1.0)),
        Part("box", (0.03, hw - 0.2, 0.03), (hl - 0.02, 0.0, deck - 0.1), (0.95, 0.95, 0.9, 1.0)),
        Part("box", (0.45, hw - 0.12, 0.01), (-hl + 0.55, 0.0, deck + 0.005), palette("grey")),
    ]
    for sx in (-1, 1):
        for sy in (-1, 1):
            parts.append(Part("cylinder", (0.34, 0.22), (sx * (hl - 0.9), sy * (hw - 0.12), 0.34), black,
                              rpy=(math.pi / 2, 0.0, 0.0)))
    return parts


def _car_collision(item: FurnitureSpec) -> tuple[list[tuple[float, float, float]], list[tuple[float, float, float]]]:
    length, width, height = item.size
    deck = item.top_height
    halves = [(length / 2, width / 2, deck / 2), (1.3, width / 2 - 0.08, (height - deck) / 2)]
    centres = [(0.0, 0.0, deck / 2), (0.15, 0.0, deck + (height - deck) / 2)]
    return halves, centres


# -------------------------------------------------------------------------------- device looks
def device_rgba(device: DeviceSpec, state: str, palette) -> RGBA:
    """The colour of a device's indicator for ``state`` (its visible indication)."""
    if device.kind == "light":
        return (1.0, 0.93, 0.45, 1.0) if state == "on" else (0.25, 0.25, 0.27, 1.0)
    if device.kind == "air_purifier":
        return (0.1, 0.9, 0.95, 1.0) if state == "on" else (0.2, 0.2, 0.22, 1.0)
    if device.kind == "thermostat":
        lo, hi = device.value_range or (16.0, 30.0)
        try:
            t = min(max((float(state) - lo) / (hi - lo), 0.0), 1.0)
        except ValueError:
            t = 0.5
        return (0.15 + 0.8 * t, 0.3, 0.95 - 0.8 * t, 1.0)
    if device.kind == "lock":
        return (0.1, 0.8, 0.2, 1.0) if state == "locked" else (0.9, 0.1, 0.1, 1.0)
    if device.kind == "dock":
        return (0.2, 0.75, 0.3, 1.0) if state == "occupied" else (0.35, 0.35, 0.38, 1.0)
    return palette("grey")


def _device_body(pb, device: DeviceSpec, palette) -> tuple[int, tuple[int, ...]]:
    """Build one device; returns (main body, the bodies whose colour shows the state).

    Indicators are separate visual-only bodies so that recolouring one never recolours the housing
    (shapes merged into one static body share a single colour when changed).
    """
    x, y, z = device.position
    indicator = device_rgba(device, device.state, palette)
    if device.kind == "light":
        cord = Part("cylinder", (0.005, 2.0 - z), (0.0, 0.0, (2.0 - z) / 2), palette("grey"))
        body = _static_body(pb, (x, y, z), 0.0, [], [], [cord])
        bulb = _static_body(pb, (x, y, z), 0.0, [], [], [Part("sphere", (0.13,), (0.0, 0.0, 0.0), indicator)])
        return body, (bulb,)
    if device.kind == "air_purifier" and device.footprint is not None:
        sx, sy, sz = device.footprint
        housing = Part("box", (sx / 2, sy / 2, sz / 2), (0.0, 0.0, 0.0), palette("white"))
        body = _static_body(pb, (x, y, z), 0.0, [(sx / 2, sy / 2, sz / 2)], [(0.0, 0.0, 0.0)], [housing])
        strip = _static_body(pb, (x, y, z), 0.0, [], [],
                             [Part("box", (sx / 2 - 0.03, 0.004, 0.04), (0.0, -sy / 2 - 0.003, sz / 2 - 0.08), indicator)])
        top = _static_body(pb, (x, y, z), 0.0, [], [],
                           [Part("box", (sx / 2 - 0.04, sy / 2 - 0.04, 0.004), (0.0, 0.0, sz / 2 + 0.002), indicator)])
        return body, (strip, top)
    if device.kind == "dock":
        pad = Part("box", (0.22, 0.22, 0.004), (0.0, 0.0, 0.0), palette("grey"))
        body = _static_body(pb, (x, y, z), 0.0, [], [], [pad])
        led = _static_body(pb, (x, y, z), 0.0, [], [], [Part("box", (0.08, 0.08, 0.005), (0.0, 0.0, 0.003), indicator)])
        return body, (led,)
    # wall-mounted panels: thermostat display, door lock
    panel = Part("box", (0.03, 0.07, 0.07), (0.0, 0.0, 0.0), palette("white"))
    body = _static_body(pb, (x, y, z), 0.0, [], [], [panel])
    display = _static_body(pb, (x, y, z), 0.0, [], [], [Part("box", (0.032, 0.05, 0.04), (0.0, 0.0, 0.0), indicator)])
    return body, (display,)


# --------------------------------------------------------------------------------- people/objects
def _person_parts(person: PersonSpec, palette) -> tuple[list[Part], float]:
    skin = (0.93, 0.76, 0.62, 1.0)
    shirt = (0.8, 0.3, 0.3, 1.0)
    trousers = palette("navy")
    if person.posture == "seated":
        parts = [
            Part("box", (0.26, 0.26, 0.22), (0.0, 0.0, 0.22), palette("dark_brown")),
            Part("box", (0.26, 0.07, 0.35), (0.0, 0.22, 0.6), palette("dark_brown")),
            Part("box", (0.2, 0.14, 0.18), (0.0, 0.05, 0.7), shirt),
            Part("sphere", (0.11,), (0.0, 0.05, 1.0), skin),
            Part("box", (0.16, 0.2, 0.06), (0.0, -0.15, 0.5), trousers),
            Part("box", (0.06, 0.06, 0.23), (0.08, -0.3, 0.23), trousers),
            Part("box", (0.06, 0.06, 0.23), (-0.08, -0.3, 0.23), trousers),
        ]
        return parts, 1.1
    parts = [
        Part("box", (0.07, 0.07, 0.42), (0.09, 0.0, 0.42), trousers),
        Part("box", (0.07, 0.07, 0.42), (-0.09, 0.0, 0.42), trousers),
        Part("box", (0.2, 0.12, 0.3), (0.0, 0.0, 1.15), shirt),
        Part("sphere", (0.11,), (0.0, 0.0, 1.6), skin),
    ]
    return parts, 1.7


def build_person(pb, person: PersonSpec, palette) -> int:
    """A static person (yaw faces the way they look); collision is a cylinder of the person's radius."""
    parts, height = _person_parts(person, palette)
    col = pb.createCollisionShape(pb.GEOM_CYLINDER, radius=person.radius, height=height,
                                  collisionFramePosition=[0.0, 0.0, height / 2])
    base_vis = _visual(pb, parts[0])
    links = [_visual(pb, p) for p in parts[1:]]
    n = len(links)
    # person frame: local -y is "forward"; rotate so that yaw = facing direction
    return pb.createMultiBody(
        baseMass=0.0,
        baseCollisionShapeIndex=col,
        baseVisualShapeIndex=base_vis,
        basePosition=[person.pose.x, person.pose.y, 0.0],
        baseOrientation=pb.getQuaternionFromEuler((0.0, 0.0, person.pose.yaw + math.pi / 2)),
        linkMasses=[0.0] * n,
        linkCollisionShapeIndices=[-1] * n,
        linkVisualShapeIndices=links,
        linkPositions=[[0.0, 0.0, 0.0]] * n,
        linkOrientations=[[0.0, 0.0, 0.0, 1.0]] * n,
        linkInertialFramePositions=[[0.0, 0.0, 0.0]] * n,
        linkInertialFrameOrientations=[[0.0, 0.0, 0.0, 1.0]] * n,
        linkParentIndices=[0] * n,
        linkJointTypes=[pb.JOINT_FIXED] * n,
        linkJointAxis=[[0.0, 0.0, 1.0]] * n,
    )


def build_object(pb, obj: ObjectSpec, rgba: RGBA, position: Sequence[float] | None = None) -> int:
    """A dynamic movable object (cup, mug, bowl, toy, luggage, clutter block)."""
    pos = list(position if position is not None else obj.position)
    if obj.shape in ("cylinder", "bowl"):
        radius, height = obj.size[0], obj.size[1]
        col = pb.createCollisionShape(pb.GEOM_CYLINDER, radius=radius, height=height)
        vis = pb.createVisualShape(pb.GEOM_CYLINDER, radius=radius, length=height, rgbaColor=rgba)
    elif obj.shape == "sphere":
        col = pb.createCollisionShape(pb.GEOM_SPHERE, radius=obj.size[0])
        vis = pb.createVisualShape(pb.GEOM_SPHERE, radius=obj.size[0], rgbaColor=rgba)
    else:
        half = [s / 2 for s in obj.size]
        col = pb.createCollisionShape(pb.GEOM_BOX, halfExtents=half)
        vis = pb.createVisualShape(pb.GEOM_BOX, halfExtents=half, rgbaColor=rgba)
    body = pb.createMultiBody(baseMass=obj.mass, baseCollisionShapeIndex=col, baseVisualShapeIndex=vis,
                              basePosition=pos)
    pb.changeDynamics(body, -1, lateralFriction=0.9, rollingFriction=0.002, spinningFriction=0.002,
                      linearDamping=0.1, angularDamping=0.3,
                      activationState=pb.ACTIVATION_STATE_ENABLE_SLEEPING)  # resting objects cost nothing
    return body


def build_world(pb, layout: HomeLayout, include_car: bool = True) -> BuiltWorld:
    """Create floor, walls, furniture, devices, people and objects; return their body ids."""
    built = BuiltWorld()
    palette = layout.rgba

    # a thick box rather than an infinite plane: rays skimming a plane are slow to test in Bullet
    xmin, ymin, xmax, ymax = layout.bounds
    half = [(xmax - xmin) / 2 + 20.0, (ymax - ymin) / 2 + 20.0, 0.5]
    floor_col = pb.createCollisionShape(pb.GEOM_BOX, halfExtents=half)
    floor_vis = pb.createVisualShape(pb.GEOM_BOX, halfExtents=half, rgbaColor=[0.42, 0.5, 0.38, 1])
    built.floor_body = pb.createMultiBody(0.0, floor_col, floor_vis,
                                          [(xmin + xmax) / 2, (ymin + ymax) / 2, -0.5 - 0.001])
    pb.changeDynamics(built.floor_body, -1, lateralFriction=0.8)
    built.entity_of_body[built.floor_body] = "floor"

    for room in layout.rooms:
        xs = [p[0] for p in room.polygon]
        ys = [p[1] for p in room.polygon]
        cx, cy = (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2
        rgba = _shade(palette(layout.room_floors.get(room.id, "grey")), 1.0)
        rgba = (0.55 + 0.45 * rgba[0], 0.55 + 0.45 * rgba[1], 0.55 + 0.45 * rgba[2], 1.0)
        part = Part("box", ((max(xs) - min(xs)) / 2, (max(ys) - min(ys)) / 2, 0.0005), (0.0, 0.0, 0.0), rgba)
        _static_body(pb, (cx, cy, 0.0006), 0.0, [], [], [part])

    for wall in layout.walls:
        box = wall.box
        half = (box.length / 2, box.width / 2, wall.height / 2)
        part = Part("box", half, (0.0, 0.0, wall.height / 2), palette(wall.colour))
        body = _static_body(pb, (box.cx, box.cy, 0.0), box.yaw, [half], [(0.0, 0.0, wall.height / 2)], [part])
        built.entity_of_body[body] = wall.kind

    for item in layout.furniture:
        if item.cls == "car" and not include_car:
            continue
        built.furniture_bodies[item.id] = [build_furniture(pb, item, layout)]
        for body in built.furniture_bodies[item.id]:
            built.entity_of_body[body] = item.id

    for device in layout.devices:
        body, indicators = _device_body(pb, device, palette)
        built.device_bodies[device.id] = (body, indicators)
        for part in (body, *indicators):
            built.entity_of_body[part] = device.id

    for person in layout.people:
        body = build_person(pb, person, palette)
        built.person_bodies[person.id] = body
        built.entity_of_body[body] = person.id

    for obj in layout.objects:
        if obj.on == "car" and not include_car:
            continue
        body = build_object(pb, obj, palette(obj.colour))
        built.object_bodies[obj.id] = body
        built.entity_of_body[body] = obj.id
    return built


def build_furniture(pb, item: FurnitureSpec, layout: HomeLayout) -> int:
    """One furniture body: footprint-box collision (car: body + cabin), decorative visual links."""
    rgba = layout.rgba(item.colour)
    parts = visual_parts_for(item, rgba, layout.rgba)
    if item.cls == "car":
        halves, centres = _car_collision(item)
    else:
        halves = [(item.size[0] / 2, item.size[1] / 2, item.size[2] / 2)]
        centres = [(0.0, 0.0, item.size[2] / 2)]
    body = _static_body(pb, (item.pose.x, item.pose.y, 0.0), item.pose.yaw, halves, centres, parts)
    pb.changeDynamics(body, -1, lateralFriction=0.8)
    return body
