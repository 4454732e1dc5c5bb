"""The three robot bodies built programmatically: a mobile manipulator, a robot dog carrier and a vacuum.

Each is one PyBullet multibody whose base frame sits on the floor at the robot's centre (x forward).
The base collides as a frictionless cylinder of the robot's footprint radius riding on three ball casters
just above the floor, so the circle the planners assume is the circle the physics uses. The manipulator's arm is a 5-DoF chain
(shoulder yaw, shoulder/elbow/wrist pitch, wrist roll) with a two-finger prismatic gripper and a
``tcp`` link between the fingertips that IK targets.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from sim.world_builder import Part, _visual

__all__ = ["ARM_HOME", "RobotBody", "RobotModel", "ROBOT_MODELS", "build_robot"]


@dataclass(frozen=True)
class RobotModel:
    """Geometry, limits and sensor mounts of one robot kind."""

    kind: str
    radius: float
    height: float
    mass: float
    v_max: float = 0.5
    w_max: float = 1.5
    accel: float = 0.8
    alpha: float = 3.0
    lidar_height: float = 0.07
    camera_xyz: tuple[float, float, float] = (0.1, 0.0, 0.3)
    camera_pitch: float = 0.0
    cargo_xyz: tuple[float, float, float] | None = None
    cargo_reach: float = 0.0


ROBOT_MODELS: dict[str, RobotModel] = {
    "manipulator": RobotModel(
        kind="manipulator", radius=0.25, height=1.35, mass=35.0, accel=0.8, alpha=3.0,
        camera_xyz=(-0.06, 0.0, 1.32), camera_pitch=math.radians(38.0),
    ),
    "dog": RobotModel(
        kind="dog", radius=0.30, height=0.55, mass=30.0, accel=1.0, alpha=3.0,
        camera_xyz=(0.34, 0.0, 0.46), camera_pitch=math.radians(12.0),
        cargo_xyz=(-0.02, 0.0, 0.52), cargo_reach=1.1,
    ),
    "vacuum": RobotModel(
        kind="vacuum", radius=0.17, height=0.1, mass=4.0, accel=0.8, alpha=3.0, lidar_height=0.055,
        camera_xyz=(0.16, 0.0, 0.08), camera_pitch=0.0,
    ),
}

# joint order: shoulder_yaw, shoulder_pitch, elbow, wrist_pitch, wrist_roll
ARM_HOME = (0.0, -0.2, 2.8, 0.54, 0.0)
ARM_LOWER = (-2.9, -1.6, 0.0, -2.2, -3.1)
ARM_UPPER = (2.9, 2.0, 2.95, 2.2, 3.1)
FINGER_OPEN = 0.085
SHOULDER_XYZ = (0.10, 0.0, 0.62)
UPPER_ARM = 0.45
FOREARM = 0.40


@dataclass
class RobotBody:
    """Body id and link indices of a built robot."""

    body: int
    model: RobotModel
    arm_joints: tuple[int, ...] = ()
    finger_joints: tuple[int, ...] = ()
    palm_link: int = -1
    tcp_link: int = -1
    camera_link: int = -1
    link_names: dict[int, str] = field(default_factory=dict)


@dataclass
class _Link:
    name: str
    parent: int  # index into the link list, -1 = base
    joint: str  # fixed | revolute | prismatic
    pos: tuple[float, float, float]
    axis: tuple[float, float, float]
    mass: float
    visual: list[Part]
    collision: tuple[str, tuple[float, ...], tuple[float, float, float]] | None = None


def _base_collision(pb, radius: float, height: float, clearance: float) -> int:
    """The footprint cylinder, ``clearance`` above the floor, resting on three ball casters.

    Spheres keep a clean contact with the floor while the base slides (a flat cylinder face sliding on a
    box makes Bullet's contact manifold flicker and the base sink and tip).
    """
    shapes = [pb.GEOM_CYLINDER] + [pb.GEOM_SPHERE] * 3
    radii = [radius] + [clearance] * 3
    lengths = [height - clearance] + [0.0] * 3
    positions = [[0.0, 0.0, (height + clearance) / 2]]
    for k in range(3):
        angle = 2.0 * math.pi * k / 3.0
        positions.append([0.6 * radius * math.cos(angle), 0.6 * radius * math.sin(angle), clearance])
    return pb.createCollisionShapeArray(shapeTypes=shapes, radii=radii, lengths=lengths,
                                        collisionFramePositions=positions)


def _make_multibody(pb, base_col: int, base_vis: Part, mass: float, links: list[_Link], pose) -> int:
    vis_ids, col_ids = [], []
    for link in links:
        vis_ids.append(_visual(pb, link.visual[0]) if link.visual else -1)
        if link.collision is None:
            col_ids.append(-1)
        else:
            shape, dims, pos = link.collision
            if shape == "box":
                col_ids.append(pb.createCollisionShape(pb.GEOM_BOX, halfExtents=dims, collisionFramePosition=pos))
            elif shape == "capsule":
                col_ids.append(pb.createCollisionShape(pb.GEOM_CAPSULE, radius=dims[0], height=dims[1],
                                                       collisionFramePosition=pos))
            else:
                col_ids.append(pb.createCollisionShape(pb.GEOM_CYLINDER, radius=dims[0], height=dims[1],
                                                       collisionFramePosition=pos))
    joint_type = {"fixed": pb.JOINT_FIXED, "revolute": pb.JOINT_REVOLUTE, "prismatic": pb.JOINT_PRISMATIC}
    x, y, yaw = pose
    body = pb.createMultiBody(
        baseMass=mass,
        baseCollisionShapeIndex=base_col,
        baseVisualShapeIndex=_visual(pb, base_vis),
        basePosition=[x, y, 0.0],
        baseOrientation=pb.getQuaternionFromEuler((0.0, 0.0, yaw)),
        baseInertialFramePosition=[0.0, 0.0, 0.0],
        linkMasses=[link.mass for link in links],
        linkCollisionShapeIndices=col_ids,
        linkVisualShapeIndices=vis_ids,
        linkPositions=[list(link.pos) for link in links],
        linkOrientations=[[0.0, 0.0, 0.0, 1.0]] * len(links),
        linkInertialFramePositions=[[0.0, 0.0, 0.0]] * len(links),
        linkInertialFrameOrientations=[[0.0, 0.0, 0.0, 1.0]] * len(links),
        linkParentIndices=[link.parent + 1 for link in links],
        linkJointTypes=[joint_type[link.joint] for link in links],
        linkJointAxis=[list(link.axis) for link in links],
    )
    pb.changeDynamics(body, -1, lateralFriction=0.0, spinningFriction=0.0, rollingFriction=0.0,
                      linearDamping=0.0, angularDamping=0.0)
    return body


def _manipulator_links() -> list[_Link]:
    white = (0.92, 0.92, 0.95, 1.0)
    blue = (0.15, 0.35, 0.8, 1.0)
    dark = (0.15, 0.15, 0.18, 1.0)
    grey = (0.55, 0.57, 0.6, 1.0)
    sx, sy, sz = SHOULDER_XYZ
    return [
        _Link("mast", -1, "fixed", (-0.12, 0.0, 0.35), (0, 0, 1), 0.5,
              [Part("box", (0.03, 0.03, 0.4), (0.0, 0.0, 0.4), grey)]),
        _Link("head", 0, "fixed", (0.0, 0.0, 0.97), (0, 0, 1), 0.3,
              [Part("box", (0.06, 0.1, 0.05), (0.0, 0.0, 0.0), white)]),
        _Link("camera", 1, "fixed", (0.062, 0.0, 0.0), (0, 0, 1), 0.05,
              [Part("cylinder", (0.02, 0.01), (0.0, 0.0, 0.0), dark, rpy=(0.0, math.pi / 2, 0.0))]),
        _Link("shoulder_yaw", -1, "revolute", (sx, sy, sz), (0, 0, 1), 1.5,
              [Part("cylinder", (0.05, sz - 0.35), (0.0, 0.0, -(sz - 0.35) / 2), grey)]),
        _Link("upper_arm", 3, "revolute", (0.0, 0.0, 0.05), (0, 1, 0), 1.2,
              [Part("box", (0.035, 0.035, UPPER_ARM / 2), (0.0, 0.0, UPPER_ARM / 2), blue)],
              ("box", (0.035, 0.035, UPPER_ARM / 2 - 0.04), (0.0, 0.0, UPPER_ARM / 2))),
        _Link("forearm", 4, "revolute", (0.0, 0.0, UPPER_ARM), (0, 1, 0), 0.8,
              [Part("box", (0.03, 0.03, FOREARM / 2), (0.0, 0.0, FOREARM / 2), white)],
              ("box", (0.03, 0.03, FOREARM / 2 - 0.04), (0.0, 0.0, FOREARM / 2))),
        _Link("wrist", 5, "revolute", (0.0, 0.0, FOREARM), (0, 1, 0), 0.3,
              [Part("box", (0.025, 0.025, 0.04), (0.0, 0.0, 0.04), grey)]),
        _Link("palm", 6, "revolute", (0.0, 0.0, 0.08), (0, 0, 1), 0.25,
              [Part("box", (0.025, 0.105, 0.015), (0.0, 0.0, 0.015), dark)],
              ("box", (0.025, 0.105, 0.015), (0.0, 0.0, 0.015))),
        _Link("finger_left", 7, "prismatic", (0.0, 0.0, 0.03), (0, 1, 0), 0.05,
              [Part("box", (0.012, 0.008, 0.05), (0.0, 0.0, 0.05), grey)],
              ("box", (0.012, 0.008, 0.05), (0.0, 0.0, 0.05))),
        _Link("finger_right", 7, "prismatic", (0.0, 0.0, 0.03), (0, -1, 0), 0.05,
              [Part("box", (0.012, 0.008, 0.05), (0.0, 0.0, 0.05), grey)],
              ("box", (0.012, 0.008, 0.05), (0.0, 0.0, 0.05))),
        _Link("tcp", 7, "fixed", (0.0, 0.0, 0.105), (0, 0, 1), 0.01, []),
    ]


def _dog_links() -> list[_Link]:
    yellow = (0.98, 0.78, 0.1, 1.0)
    dark = (0.12, 0.12, 0.14, 1.0)
    grey = (0.5, 0.52, 0.55, 1.0)
    links = [
        _Link("torso", -1, "fixed", (0.0, 0.0, 0.38), (0, 0, 1), 1.0,
              [Part("box", (0.25, 0.13, 0.08), (0.0, 0.0, 0.0), yellow)]),
        _Link("head", 0, "fixed", (0.27, 0.0, 0.07), (0, 0, 1), 0.3,
              [Part("box", (0.05, 0.08, 0.05), (0.0, 0.0, 0.0), dark)]),
        _Link("cargo_bay", 0, "fixed", (-0.02, 0.0, 0.09), (0, 0, 1), 0.5,
              [Part("box", (0.2, 0.14, 0.012), (0.0, 0.0, 0.0), grey)]),
    ]
    for k, (lx, ly) in enumerate(((0.19, 0.1), (0.19, -0.1), (-0.19, 0.1), (-0.19, -0.1))):
        links.append(_Link(f"leg{k}", -1, "fixed", (lx, ly, 0.17), (0, 0, 1), 0.3,
                           [Part("box", (0.025, 0.025, 0.16), (0.0, 0.0, 0.0), dark)]))
    return links


def _vacuum_links() -> list[_Link]:
    silver = (0.75, 0.77, 0.8, 1.0)
    dark = (0.1, 0.1, 0.12, 1.0)
    return [
        _Link("top", -1, "fixed", (0.0, 0.0, 0.085), (0, 0, 1), 0.2,
              [Part("cylinder", (0.16, 0.01), (0.0, 0.0, 0.0), silver)]),
        _Link("lidar_turret", 0, "fixed", (0.05, 0.0, 0.015), (0, 0, 1), 0.05,
              [Part("cylinder", (0.04, 0.02), (0.0, 0.0, 0.0), dark)]),
        _Link("bumper", -1, "fixed", (0.12, 0.0, 0.05), (0, 0, 1), 0.1,
              [Part("box", (0.03, 0.12, 0.025), (0.0, 0.0, 0.0), dark)]),
    ]


def build_robot(pb, kind: str, pose: tuple[float, float, float]) -> RobotBody:
    """Create a robot of ``kind`` at ``pose`` (x, y, yaw) and return its body description."""
    model = ROBOT_MODELS[kind]
    if kind == "manipulator":
        links = _manipulator_links()
        col = _base_collision(pb, model.radius, 0.35, 0.03)
        base_vis = Part("cylinder", (model.radius, 0.32), (0.0, 0.0, 0.19), (0.92, 0.92, 0.95, 1.0))
    elif kind == "dog":
        links = _dog_links()
        col = _base_collision(pb, model.radius, 0.5, 0.03)
        base_vis = Part("box", (0.22, 0.14, 0.004), (0.0, 0.0, 0.004), (0.3, 0.3, 0.3, 1.0))
    elif kind == "vacuum":
        links = _vacuum_links()
        col = _base_collision(pb, model.radius, 0.09, 0.015)
        base_vis = Part("cylinder", (model.radius, 0.075), (0.0, 0.0, 0.0525), (0.2, 0.2, 0.22, 1.0))
    else:
        raise ValueError(f"unknown robot kind {kind!r}")
    body = _make_multibody(pb, col, base_vis, model.mass, links, pose)
    names = {i: link.name for i, link in enumerate(links)}
    robot = RobotBody(body=body, model=model, link_names=names)
    index = {name: i for i, name in names.items()}
    if kind == "manipulator":
        robot.arm_joints = tuple(index[n] for n in ("shoulder_yaw", "upper_arm", "forearm", "wrist", "palm"))
        robot.finger_joints = (index["finger_left"], index["finger_right"])
        robot.palm_link = index["palm"]
        robot.tcp_link = index["tcp"]
        robot.camera_link = index["camera"]
        for joint, q in zip(robot.arm_joints, ARM_HOME, strict=True):
            pb.resetJointState(body, joint, q)
        for joint in robot.finger_joints:
            pb.resetJointState(body, joint, FINGER_OPEN)
            pb.changeDynamics(body, joint, lateralFriction=1.5)
        # every link except the fingers and gripper passes through nothing it must not: light, stiff joints
        for j in range(pb.getNumJoints(body)):
            pb.changeDynamics(body, j, linearDamping=0.0, angularDamping=0.0, jointDamping=0.5)
        for j in robot.arm_joints:
            pb.changeDynamics(body, j, jointLowerLimit=ARM_LOWER[robot.arm_joints.index(j)],
                              jointUpperLimit=ARM_UPPER[robot.arm_joints.index(j)])
    for j in range(pb.getNumJoints(body)):
        pb.setJointMotorControl2(body, j, pb.VELOCITY_CONTROL, force=0.0)
    return robot
