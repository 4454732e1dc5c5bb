"""look_for's eyes: colour segmentation + depth -> map position within 3 cm (edge_agent.perception).

Synthetic RGB-D frames are ray-cast with numpy (pinhole camera, OpenCV optical frame, z-depth), so the
true position of every object is known exactly; the last test looks at the real red cup in the
PyBullet home and compares with the simulator's ground truth.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from edge_agent.astar import GridPlanner
from edge_agent.perception import CameraIntrinsics, colour_mask, locate_object, rgb_to_hsv
from sim.home_layout import load_home_layout

W, H = 160, 120
INTR = CameraIntrinsics.from_fov(W, H, 70.0)
RED = (217, 26, 26)
BLUE = (31, 77, 217)
GREY = (120, 120, 118)


def look_at(eye, target) -> np.ndarray:
    """Camera-to-map transform of an optical frame (x right, y down, z forward) at ``eye`` facing ``target``."""
    eye = np.asarray(eye, dtype=np.float64)
    forward = np.asarray(target, dtype=np.float64) - eye
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    pose = np.eye(4)
    pose[:3, 0], pose[:3, 1], pose[:3, 2], pose[:3, 3] = right, down, forward, eye
    return pose


class Scene:
    """A tiny numpy ray caster: a grey backdrop at a fixed depth plus shaded spheres and flat discs."""

    def __init__(self, pose: np.ndarray, backdrop_depth: float = 4.0) -> None:
        self.pose = pose
        u, v = np.meshgrid(np.arange(W, dtype=np.float64), np.arange(H, dtype=np.float64))
        rays_cam = np.stack([(u - INTR.cx) / INTR.fx, (v - INTR.cy) / INTR.fy, np.ones_like(u)], axis=-1)
        self.rays = rays_cam @ pose[:3, :3].T  # world direction per pixel, scaled so t is the z-depth
        self.eye = pose[:3, 3]
        self.depth = np.full((H, W), backdrop_depth)
        self.rgb = np.empty((H, W, 3), dtype=np.uint8)
        self.rgb[:] = GREY

    def sphere(self, centre, radius: float, colour) -> Scene:
        oc = self.eye - np.asarray(centre, dtype=np.float64)
        a = np.einsum("hwk,hwk->hw", self.rays, self.rays)
        b = 2.0 * np.einsum("hwk,k->hw", self.rays, oc)
        c = float(oc @ oc) - radius * radius
        disc = b * b - 4 * a * c
        t = (-b - np.sqrt(np.maximum(disc, 0.0))) / (2 * a)
        hit = (disc >= 0) & (t > 0) & (t < self.depth)
        points = self.eye + self.rays * t[..., None]
        normals = (points - np.asarray(centre)) / radius
        light = np.array([0.4, 0.3, 1.0]) / np.linalg.norm([0.4, 0.3, 1.0])
        shade = 0.55 + 0.45 * np.clip(normals @ light, 0.0, 1.0)
        self.rgb[hit] = (np.asarray(colour)[None, :] * shade[hit][:, None]).astype(np.uint8)
        self.depth[hit] = t[hit]
        return self

    def disc(self, centre, radius: float, colour) -> Scene:
        """A flat disc facing the camera (perpendicular to the optical axis) centred at ``centre``."""
        centre = np.asarray(centre, dtype=np.float64)
        z = float((centre - self.eye) @ self.pose[:3, 2])
        points = self.eye + self.rays * z
        hit = (np.linalg.norm(points - centre, axis=-1) <= radius) & (z < self.depth)
        self.rgb[hit] = colour
        self.depth[hit] = z
        return self

    def locate(self, colour: str, **kwargs):
        return locate_object(self.rgb, self.depth, colour, INTR, self.pose, **kwargs)


LEVEL = look_at((0.0, 0.0, 1.0), (1.0, 0.0, 1.0))  # looking along +x at 1 m height
TILTED = look_at((0.0, 0.0, 1.3), (1.0, 0.3, 0.7))  # looking forward-down and a little left


def test_a_red_disc_at_a_known_depth_is_located_within_3_cm():
    truth = (1.5, 0.2, 1.1)
    scene = Scene(LEVEL).disc(truth, 0.1, RED)

    sighting = scene.locate("red", solid=False)

    assert sighting is not None
    assert math.dist(sighting.position, truth) < 0.03
    assert sighting.pixel_count > 50 and sighting.confidence > 0.9


def test_a_solid_ball_seen_from_above_is_located_at_its_centre_not_its_surface():
    truth = (1.1, 0.3, 0.75)
    scene = Scene(TILTED).sphere(truth, 0.05, RED)

    solid = scene.locate("red")
    surface = scene.locate("red", solid=False)

    assert math.dist(solid.position, truth) < 0.03
    assert math.dist(surface.position, truth) > math.dist(solid.position, truth)
    assert solid.radius_m == pytest.approx(0.05, abs=0.015)


def test_each_colour_finds_its_own_object():
    red_truth, blue_truth = (1.2, -0.25, 0.8), (1.3, 0.3, 0.8)
    scene = Scene(TILTED).sphere(red_truth, 0.04, RED).sphere(blue_truth, 0.04, BLUE)

    assert math.dist(scene.locate("red").position, red_truth) < 0.03
    assert math.dist(scene.locate("blue").position, blue_truth) < 0.03


def test_nothing_of_that_colour_in_view_gives_none():
    scene = Scene(LEVEL).sphere((1.5, 0.0, 1.0), 0.05, BLUE)

    assert scene.locate("red") is None
    assert scene.locate("green") is None


def test_tiny_blobs_are_rejected_as_noise():
    scene = Scene(LEVEL)
    scene.rgb[60:62, 80:82] = RED
    scene.depth[60:62, 80:82] = 1.5

    assert scene.locate("red") is None
    assert scene.locate("red", min_pixels=4) is not None


def test_a_blob_filling_the_view_is_background_not_an_object():
    scene = Scene(LEVEL)
    scene.rgb[:] = RED

    assert scene.locate("red") is None


def test_a_blob_without_depth_cannot_be_located():
    scene = Scene(LEVEL).disc((1.5, 0.0, 1.0), 0.08, RED)
    scene.depth[np.all(scene.rgb == RED, axis=-1)] = np.nan

    assert scene.locate("red") is None


def test_near_hint_picks_the_blob_where_the_object_should_be_over_a_larger_one():
    small, large = (1.2, -0.3, 0.8), (1.6, 0.4, 0.7)
    scene = Scene(TILTED).sphere(small, 0.035, RED).sphere(large, 0.09, RED)

    assert math.dist(scene.locate("red").position, large) < 0.05
    assert math.dist(scene.locate("red", near_xy=small[:2]).position, small) < 0.03


def test_a_blob_cut_by_the_image_border_loses_to_one_seen_whole():
    scene = Scene(LEVEL).disc((1.2, 0.0, 1.0), 0.04, RED)
    scene.rgb[40:80, 0:30] = RED  # bigger, but half out of the frame on the left
    scene.depth[40:80, 0:30] = 1.0

    sighting = scene.locate("red", solid=False)

    assert math.dist(sighting.position, (1.2, 0.0, 1.0)) < 0.03


def test_pixels_nearer_than_the_minimum_depth_are_the_robot_itself_and_ignored():
    scene = Scene(TILTED).sphere((1.0, 0.25, 0.8), 0.04, BLUE)
    scene.rgb[90:110, 60:100] = BLUE  # e.g. the robot's own bumper in the bottom of the frame
    scene.depth[90:110, 60:100] = 0.2

    assert math.dist(scene.locate("blue").position, (1.0, 0.25, 0.8)) < 0.03


def test_hsv_of_pure_colours():
    pixels = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 0], [255, 255, 255], [0, 0, 0]]],
                      dtype=np.uint8)

    hue, sat, val = rgb_to_hsv(pixels)

    assert hue[0, :4].tolist() == pytest.approx([0.0, 120.0, 240.0, 60.0])
    assert sat[0].tolist() == pytest.approx([1, 1, 1, 1, 0, 0])
    assert val[0].tolist() == pytest.approx([1, 1, 1, 1, 1, 0])


@pytest.mark.parametrize("colour", ["red", "blue", "green", "yellow", "orange", "white", "black"])
def test_the_seed_homes_object_colours_match_their_own_name_only(colour):
    layout = load_home_layout()
    rgba = np.array(layout.rgba(colour))
    shades = np.clip(np.stack([rgba[:3] * f for f in (0.6, 0.8, 1.0)])[None] * 255, 0, 255).astype(np.uint8)
    if colour == "white":
        shades = shades[:, 1:]  # white is only white while lit; in shadow it is grey like a wall
    if colour == "black":
        shades = shades[:, 2:]

    matches = {name for name in ("red", "blue", "green", "yellow", "orange", "white", "black")
               if colour_mask(shades, name).all()}

    assert matches == {colour}


def test_the_real_red_cup_on_the_counter_is_located_within_3_cm_of_ground_truth():
    home_sim = pytest.importorskip("sim.home_sim")
    sim = home_sim.HomeSim(robots=("robot1",))
    try:
        truth = sim.object_position("cup_red")
        planner = GridPlanner(sim.occupancy_grid(), sim.layout.robot("robot1").radius)
        sim.teleport_robot("robot1", planner.standing_pose_near(truth[:2], 0.1))
        sim.step(0.1)
        frame = sim.camera("robot1")

        sighting = locate_object(
            frame.rgb, frame.depth, "red", CameraIntrinsics(frame.fx, frame.fy, frame.cx, frame.cy),
            frame.world_from_camera,
        )
    finally:
        sim.close()

    assert sighting is not None
    assert math.dist(sighting.position, truth) < 0.03
