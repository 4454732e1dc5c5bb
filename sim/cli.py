"""``reflexarc sim ...``: look at the simulated home (``snapshot`` writes top-down and camera PNGs)."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

__all__ = ["register"]

# where robot1 goes for the pick-ready camera view: in front of the red cup on the kitchen counter
_PICK_VIEW_POSE = (1.75, 7.9, math.pi / 2)


def _snapshot(args: argparse.Namespace) -> int:
    from sim.home_sim import HomeSim
    from sim.scripted_drive import drive_to
    from sim.sensors import CameraConfig
    from sim.snapshot import draw_top_down, save_camera_png

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with HomeSim(seed=args.seed, camera=CameraConfig(width=320, height=240)) as sim:
        written = [save_camera_png(sim.camera("robot1"), out / "camera_robot1_dock.png", scale=2)]
        trajectories = None
        if not args.no_drive:
            x, y, yaw = _PICK_VIEW_POSE
            if not drive_to(sim, "robot1", (x, y), yaw):
                sys.stderr.write("warning: robot1 did not reach the kitchen counter view\n")
            trajectories = {"robot1": sim.trajectory("robot1")}
            written.append(save_camera_png(sim.camera("robot1"), out / "camera_robot1.png", scale=2))
        top = out / "top_down.png"
        draw_top_down(sim.scene_graph(), sim.occupancy_grid(), trajectories,
                      {"title": f"ReflexArc home (seed {args.seed}, t = {sim.time:.1f} s)"}, top)
        written.insert(0, top)
    for path in written:
        sys.stdout.write(f"{path}\n")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``sim`` with its ``snapshot`` subcommand."""
    parser = subparsers.add_parser("sim", help="the PyBullet home simulation")
    sub = parser.add_subparsers(dest="sim_command", metavar="SIM_COMMAND")
    snap = sub.add_parser("snapshot", help="write a top-down PNG and robot-camera PNGs of the home")
    snap.add_argument("--seed", type=int, default=0, help="layout seed (0 = the canonical home)")
    snap.add_argument("--out", default="snapshots", metavar="DIR", help="output directory (default: snapshots)")
    snap.add_argument("--no-drive", action="store_true",
                      help="do not drive robot1 to the kitchen counter first (no trajectory, dock view only)")
    snap.set_defaults(func=_snapshot)
    parser.set_defaults(func=lambda _args: (parser.print_help(), 2)[1])
