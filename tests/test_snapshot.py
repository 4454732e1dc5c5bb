"""Pictures of the home: the top-down plan and the robot-camera view, via function and CLI."""

from __future__ import annotations

import numpy as np
from matplotlib import image as mpimg

from reflexarc.cli import main
from sim.home_layout import load_home_layout
from sim.snapshot import draw_top_down


def _colour_fraction(png: np.ndarray, rgb: tuple[float, float, float], tol: float = 0.04) -> float:
    return float((np.abs(png[:, :, :3] - np.array(rgb)).max(axis=2) < tol).mean())


def _reddish(png: np.ndarray) -> int:
    return int(((png[:, :, 0] > 0.6) & (png[:, :, 1] < 0.45) & (png[:, :, 2] < 0.45)).sum())


def test_top_down_draws_rooms_furniture_and_trajectories(tmp_path):
    layout = load_home_layout()
    path = tmp_path / "plan.png"
    draw_top_down(layout.scene_graph(), layout.occupancy_grid(), {"robot1": [(6.0, 4.1), (6.0, 7.0), (2.0, 7.5)]},
                  {"title": "test"}, path)
    png = mpimg.imread(path)
    assert png.shape[1] > 1000
    sofa = layout.rgba("navy")[:3]
    car = layout.rgba("aqua")[:3]
    assert _colour_fraction(png, sofa) > 0.003  # the sofa is drawn in its colour
    assert _colour_fraction(png, car) > 0.01  # so is the car in the driveway
    bare = tmp_path / "bare.png"
    draw_top_down(layout.scene_graph(), layout.occupancy_grid(), None, {"title": "test"}, bare)
    assert _reddish(png) > _reddish(mpimg.imread(bare)) + 100  # the (red) trajectory line


def test_snapshot_command_writes_top_down_and_camera_pngs(tmp_path, capsys):
    assert main(["sim", "snapshot", "--seed", "0", "--out", str(tmp_path)]) == 0
    written = capsys.readouterr().out.split()
    names = {p.rsplit("/", 1)[-1] for p in written}
    assert names == {"top_down.png", "camera_robot1_dock.png", "camera_robot1.png"}
    camera = mpimg.imread(tmp_path / "camera_robot1.png")
    # robot1 ended in front of the red cup: the camera picture contains strongly red pixels
    red = (camera[:, :, 0] > 0.6) & (camera[:, :, 1] < 0.25) & (camera[:, :, 2] < 0.25)
    assert red.sum() > 30
