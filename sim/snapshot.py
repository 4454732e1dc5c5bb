"""Pictures of the home: a labelled top-down floor plan and a robot-camera view, as PNG files.

``draw_top_down`` needs only a scene graph and an occupancy grid (no PyBullet), so the demo can draw
its report figure from whatever scene it ends with; ``write_snapshot`` renders a live ``HomeSim``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from reflexarc.occupancy_grid import OccupancyGrid
from reflexarc.scene_graph import SceneGraph

__all__ = ["draw_top_down", "save_camera_png", "write_snapshot"]

_ROBOT_COLOURS = {"manipulator": "#2a5bd7", "dog": "#f2b705", "vacuum": "#333333"}
_TRAJECTORY_COLOURS = ("#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")
_ROBOT_RADII = {"manipulator": 0.25, "dog": 0.30, "vacuum": 0.17}


def _palette() -> Mapping[str, tuple[float, float, float, float]]:
    from sim.home_layout import load_home_layout

    return load_home_layout().colours


def _colour(name: str, palette: Mapping[str, Sequence[float]]) -> Any:
    if name in palette:
        return tuple(palette[name])
    import matplotlib.colors as mcolors

    return name if mcolors.is_color_like(name) else "grey"


def draw_top_down(
    scene_graph: SceneGraph,
    grid: OccupancyGrid | None = None,
    trajectories: Mapping[str, Sequence[tuple[float, float]]] | None = None,
    extras: Mapping[str, Any] | None = None,
    path: str | Path | None = None,
) -> Any:
    """Draw the home from above and save it to ``path`` (PNG) when given; returns the matplotlib figure.

    ``extras`` may hold ``title`` (str), ``markers`` (list of ``(x, y, label)``), ``paths`` (mapping of
    label to a list of ``(x, y)``, drawn dashed, e.g. a planned route) and ``dpi`` (int).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import patches, transforms

    extras = dict(extras or {})
    palette = _palette()
    pts = np.array([p for room in scene_graph.rooms for p in room.polygon] or [(0.0, 0.0), (1.0, 1.0)])
    xmin, ymin = pts.min(axis=0) - 0.4
    xmax, ymax = pts.max(axis=0) + 0.4
    width_in = 16.0
    fig, ax = plt.subplots(figsize=(width_in, width_in * (ymax - ymin) / (xmax - xmin) + 0.6))
    ax.set_facecolor("#8fae7f")  # garden around the house

    floor_colours = {"kitchen": "#f3e9d2", "living_room": "#e8d5c4", "bedroom": "#dde8f3",
                     "entrance": "#e2e2e2", "driveway": "#b9b9b9"}
    for room in scene_graph.rooms:
        ax.add_patch(patches.Polygon(room.polygon, closed=True, facecolor=floor_colours.get(room.id, "#eeeeee"),
                                     edgecolor="none", zorder=0))
    if grid is not None:
        walls = np.ma.masked_where(grid.data == 0, grid.data)
        ax.imshow(walls, origin="lower", extent=grid.extent, cmap=matplotlib.colors.ListedColormap(["#3b3b3b"]),
                  interpolation="nearest", zorder=1)
    entity_points = [(f.pose.x, f.pose.y) for f in scene_graph.furniture]
    entity_points += [tuple(d.position[:2]) for d in scene_graph.devices]
    entity_points += [tuple(o.position[:2]) for o in scene_graph.objects]
    entity_points += [(r.pose.x, r.pose.y) for r in scene_graph.robots]
    entity_points += [(p.pose.x, p.pose.y) for p in scene_graph.people]
    hangul = _hangul_font()
    for room in scene_graph.rooms:
        label = room.name.upper()
        korean = next((a for a in room.aliases if any("\uac00" <= ch <= "\ud7a3" for ch in a)), "")
        lx, ly = _label_spot(room, grid, entity_points, half_width=0.12 * len(label) + 0.3)
        ax.text(lx, ly, label, ha="center", va="center", fontsize=13, color="#555555", fontweight="bold", zorder=2.5)
        if korean and hangul:
            ax.text(lx, ly - 0.35, korean, ha="center", va="center", fontsize=9, color="#777777", zorder=2,
                    fontfamily=hangul)

    for item in scene_graph.furniture:
        length, width, _ = item.size
        rect = patches.Rectangle((-length / 2, -width / 2), length, width,
                                 facecolor=_colour(item.colour, palette), edgecolor="#222222", linewidth=1.2,
                                 zorder=3)
        rect.set_transform(transforms.Affine2D().rotate(item.pose.yaw).translate(item.pose.x, item.pose.y)
                           + ax.transData)
        ax.add_patch(rect)
        if item.cls == "car":
            ax.text(item.pose.x + 0.6, item.pose.y, "car (Xiaomi SU7)", ha="center", va="center", fontsize=9,
                    color="white", fontweight="bold", zorder=4)
        else:
            dark = sum(_rgb(_colour(item.colour, palette))) < 1.4
            ax.text(item.pose.x, item.pose.y, item.id.replace("_", " "), ha="center", va="center", fontsize=7.5,
                    color="white" if dark else "#222222", zorder=4,
                    rotation=90 if abs(math.sin(item.pose.yaw)) > 0.7 else 0)

    for dev in scene_graph.devices:
        x, y, _ = dev.position
        if dev.kind == "light":
            on = dev.state == "on"
            if on:
                ax.add_patch(patches.Circle((x, y), 0.9, facecolor="#fff3a0", alpha=0.45, edgecolor="none", zorder=2))
            ax.add_patch(patches.Circle((x, y), 0.13, facecolor="#ffd400" if on else "#666666", edgecolor="black",
                                        zorder=6))
            ax.text(x, y - 0.28, f"{dev.id} [{dev.state}]", ha="center", va="top", fontsize=6.5, zorder=6)
        elif dev.kind == "dock":
            ax.add_patch(patches.Rectangle((x - 0.22, y - 0.22), 0.44, 0.44, facecolor="#9ad0a0" if dev.state ==
                                           "occupied" else "#bbbbbb", edgecolor="#444444", linestyle="--", zorder=2))
            ax.text(x, y - 0.3, dev.id, ha="center", va="top", fontsize=6, color="#333333", zorder=6)
        else:
            marker = {"thermostat": "s", "air_purifier": "D", "lock": "P"}.get(dev.kind, "o")
            colour = {"thermostat": "#e4572e", "air_purifier": "#17becf" if dev.state == "on" else "#777777",
                      "lock": "#2ca02c"}.get(dev.kind, "grey")
            unit = " °C" if dev.kind == "thermostat" else ""
            ax.plot([x], [y], marker=marker, markersize=9, color=colour, markeredgecolor="black", zorder=6)
            ax.text(x - 0.15 if x > 11 else x + 0.15, y + 0.15, f"{dev.id} [{dev.state}{unit}]", fontsize=6.5,
                    ha="right" if x > 11 else "left", zorder=6)

    for obj in scene_graph.objects:
        x, y, _ = obj.position
        colour = _colour(obj.colour, palette)
        marker = {"cup": "o", "mug": "o", "bowl": "o", "toy": "*", "luggage": "s", "block": "s"}.get(obj.cls, "o")
        size = {"toy": 16, "luggage": 14}.get(obj.cls, 10)
        ax.plot([x], [y], marker=marker, markersize=size, color=colour, markeredgecolor="black", zorder=7)
        where = f" held by {obj.held_by}" if obj.held_by else ""
        ax.text(x, y + 0.13, obj.id + where, ha="center", va="bottom", fontsize=6.5, zorder=8,
                bbox={"boxstyle": "round,pad=0.1", "facecolor": "white", "alpha": 0.6, "edgecolor": "none"})

    if trajectories:
        for k, (name, points) in enumerate(sorted(trajectories.items())):
            arr = np.asarray(points, dtype=float)
            if len(arr) > 1:
                ax.plot(arr[:, 0], arr[:, 1], "-", color=_TRAJECTORY_COLOURS[k % len(_TRAJECTORY_COLOURS)],
                        linewidth=2.0, alpha=0.85, zorder=5, label=f"{name} trajectory")
    for name, points in (extras.get("paths") or {}).items():
        arr = np.asarray(points, dtype=float)
        if len(arr) > 1:
            ax.plot(arr[:, 0], arr[:, 1], "--", linewidth=1.5, zorder=5, label=name)

    for person in scene_graph.people:
        ax.add_patch(patches.Circle((person.pose.x, person.pose.y), 0.25, facecolor="#f4a261", edgecolor="black",
                                    zorder=9))
        ax.arrow(person.pose.x, person.pose.y, 0.35 * math.cos(person.pose.yaw), 0.35 * math.sin(person.pose.yaw),
                 head_width=0.1, color="black", zorder=9)
        ax.text(person.pose.x, person.pose.y + 0.32, f"{person.name} (person)", ha="center", fontsize=8,
                fontweight="bold", zorder=9)

    for robot in scene_graph.robots:
        radius = _ROBOT_RADII.get(robot.kind, 0.25)
        colour = _ROBOT_COLOURS.get(robot.kind, "#555555")
        ax.add_patch(patches.Circle((robot.pose.x, robot.pose.y), radius, facecolor=colour, edgecolor="white",
                                    linewidth=1.5, zorder=10))
        ax.plot([robot.pose.x, robot.pose.x + radius * math.cos(robot.pose.yaw)],
                [robot.pose.y, robot.pose.y + radius * math.sin(robot.pose.yaw)], color="white", linewidth=2.5,
                zorder=11)
        ax.text(robot.pose.x, robot.pose.y - radius - 0.08, f"{robot.id} ({robot.kind})", ha="center", va="top",
                fontsize=8, fontweight="bold", color=colour, zorder=11,
                bbox={"boxstyle": "round,pad=0.1", "facecolor": "white", "alpha": 0.75, "edgecolor": "none"})

    for x, y, label in extras.get("markers") or ():
        ax.plot([x], [y], marker="X", markersize=12, color="#d62728", markeredgecolor="black", zorder=12)
        ax.text(x, y + 0.18, str(label), ha="center", fontsize=8, color="#d62728", zorder=12)

    ax.set_xlim(xmin, xmax)
    ax.set_ylim(ymin, ymax)
    ax.set_aspect("equal")
    ax.set_xlabel("x [m]")
    ax.set_ylabel("y [m]")
    ax.set_title(extras.get("title", "ReflexArc home (top-down)"))
    if trajectories or extras.get("paths"):
        ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=int(extras.get("dpi", 90)))
        plt.close(fig)
    return fig


def _label_spot(room: Any, grid: OccupancyGrid | None, points: Sequence[tuple[float, float]],
                half_width: float) -> tuple[float, float]:
    """A point near the room's centre where its name overlaps no wall, furniture or entity."""
    poly = np.array(room.polygon)
    centre = poly.mean(axis=0)
    xs = np.arange(poly[:, 0].min() + half_width, poly[:, 0].max() - half_width, 0.2)
    ys = np.arange(poly[:, 1].min() + 0.5, poly[:, 1].max() - 0.4, 0.2)
    candidates = sorted(((x, y) for x in xs for y in ys), key=lambda p: math.dist(p, centre))
    pts = np.asarray(points, dtype=float).reshape(-1, 2)
    for x, y in candidates:
        if not (room.contains(x - half_width, y) and room.contains(x + half_width, y)):
            continue
        if len(pts) and (np.abs(pts[:, 0] - x) < half_width + 0.3).__and__(np.abs(pts[:, 1] - y) < 0.6).any():
            continue
        if grid is not None:
            bx = np.linspace(x - half_width, x + half_width, 12)
            by = np.linspace(y - 0.3, y + 0.3, 4)
            gx, gy = np.meshgrid(bx, by)
            if grid.occupied_at(gx, gy).any():
                continue
        return float(x), float(y)
    return float(centre[0]), float(centre[1])


def _hangul_font() -> str | None:
    """A installed font that can draw Korean room names, if any (they are skipped otherwise)."""
    from matplotlib import font_manager

    for font in font_manager.fontManager.ttflist:
        if any(key in font.name for key in ("Nanum", "Noto Sans CJK", "Noto Sans KR", "UnDotum", "Baekmuk")):
            return font.name
    return None


def _rgb(colour: Any) -> tuple[float, float, float]:
    import matplotlib.colors as mcolors

    return mcolors.to_rgb(colour[:3] if isinstance(colour, tuple) else colour)


def save_camera_png(frame: Any, path: str | Path, scale: int = 3) -> Path:
    """Save a camera frame as a PNG: the RGB image beside its depth map (nearest-neighbour upscaled)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    h, w = frame.rgb.shape[:2]
    fig, axes = plt.subplots(1, 2, figsize=(2 * w * scale / 100, h * scale / 100 + 0.5))
    axes[0].imshow(frame.rgb, interpolation="nearest")
    axes[0].set_title("robot camera (RGB)")
    im = axes[1].imshow(frame.depth, cmap="viridis", interpolation="nearest")
    axes[1].set_title("depth [m]")
    fig.colorbar(im, ax=axes[1], fraction=0.046)
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def write_snapshot(sim: Any, out_dir: str | Path, robot_id: str | None = None,
                   trajectories: Mapping[str, Sequence[tuple[float, float]]] | None = None) -> dict[str, Path]:
    """Write ``top_down.png`` and ``camera_<robot>.png`` for a running ``HomeSim``; returns the paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    robot_id = robot_id or next((r for r in sim.robot_ids if sim.robot_kind(r) == "manipulator"), sim.robot_ids[0])
    top = out / "top_down.png"
    draw_top_down(sim.scene_graph(), sim.occupancy_grid(), trajectories,
                  {"title": f"ReflexArc home, seed {sim.seed}, t = {sim.time:.1f} s"}, top)
    camera = save_camera_png(sim.camera(robot_id), out / f"camera_{robot_id}.png")
    return {"top_down": top, "camera": camera}
