"""The seed home as data: ids everyone relies on, geometry rules, and a PyBullet-free import."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

from reflexarc.scene_graph import SceneGraph
from sim.home_layout import LayoutError, load_home_layout


@pytest.fixture(scope="module")
def layout():
    return load_home_layout()


@pytest.fixture(scope="module")
def graph(layout):
    return layout.scene_graph()


def test_rooms_have_the_agreed_ids_and_korean_aliases(graph):
    aliases = {room.id: set(room.aliases) for room in graph.rooms}
    assert {"주방", "부엌", "kitchen"} <= aliases["kitchen"]
    assert {"거실", "living room"} <= aliases["living_room"]
    assert {"침실", "bedroom"} <= aliases["bedroom"]
    assert {"현관", "entrance"} <= aliases["entrance"]
    assert "driveway" in aliases


def test_seed_entities_exist_with_their_classes(graph):
    expected = {
        "kitchen_counter": "counter", "dining_table": "table", "fridge": "fridge", "sink": "sink",
        "sofa": "sofa", "coffee_table": "table", "tv_stand": "tv_stand", "bed": "bed", "shelf": "shelf",
        "car": "car",
    }
    assert {f.id: f.cls for f in graph.furniture} == expected
    objects = {o.id: (o.cls, o.colour, o.on) for o in graph.objects}
    assert objects["cup_red"] == ("cup", "red", "kitchen_counter")
    assert objects["cup_blue"] == ("cup", "blue", "dining_table")
    assert objects["mug_green"] == ("mug", "green", "kitchen_counter")
    assert objects["bowl_white"] == ("bowl", "white", "dining_table")
    assert objects["toy_duck"] == ("toy", "yellow", "")
    assert objects["toy_ball"] == ("toy", "orange", "")
    assert objects["luggage"] == ("luggage", "black", "car")
    assert graph.get("luggage").graspable is False


def test_objects_rest_on_their_support_at_its_top_height(graph):
    for obj in graph.objects:
        if obj.on:
            support = graph.get(obj.on)
            assert obj.position[2] > support.top_height
            assert obj.room == support.room
        else:
            assert graph.room_at(obj.position[0], obj.position[1]).id == obj.room


def test_devices_have_states_and_the_lock_cannot_be_unlocked(graph):
    assert graph.get("thermostat").value_range == (16.0, 30.0)
    assert graph.get("thermostat").state == "20"
    assert graph.get("front_door_lock").allowed_states == ("locked",)
    assert not graph.get("front_door_lock").accepts("unlocked")
    for room in ("kitchen", "living_room", "bedroom", "entrance"):
        light = graph.get(f"light_{room}")
        assert light.kind == "light" and light.room == room and set(light.allowed_states) == {"on", "off"}
    assert {d.id for d in graph.devices if d.kind == "dock"} == {"dock_manipulator", "dock_dog", "dock_vacuum"}


def test_robots_have_their_kinds_capabilities_and_docks(graph):
    robots = {r.id: r for r in graph.robots}
    assert robots["robot1"].kind == "manipulator" and "pick" in robots["robot1"].capabilities
    assert robots["dog1"].kind == "dog" and "carry" in robots["dog1"].capabilities
    assert robots["vacuum1"].kind == "vacuum" and "clean_area" in robots["vacuum1"].capabilities
    assert robots["robot1"].dock == "dock_manipulator"
    assert graph.get("user").room == "living_room"


def test_scene_graph_survives_a_json_round_trip(graph):
    assert SceneGraph.from_json(graph.to_json()) == graph


def test_doorways_are_between_0_8_and_1_0_metres_and_cut_real_openings(layout):
    grid = layout.occupancy_grid()
    for doorway in layout.doorways:
        assert 0.8 <= doorway.width <= 1.0
        assert grid.is_free(*doorway.center)


def test_every_room_is_reachable_by_the_largest_robot(layout):
    grid = layout.occupancy_grid().inflate(0.30)
    free = grid.data == 0
    start = grid.world_to_cell(layout.robot("dog1").start.x, layout.robot("dog1").start.y)
    seen = np.zeros_like(free)
    stack = [start]
    seen[start] = True
    while stack:
        r, c = stack.pop()
        for dr, dc in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            nr, nc = r + dr, c + dc
            if 0 <= nr < grid.height and 0 <= nc < grid.width and free[nr, nc] and not seen[nr, nc]:
                seen[nr, nc] = True
                stack.append((nr, nc))
    for room in layout.rooms:
        gx, gy = grid.cell_centres()
        inside = np.vectorize(room.contains)(gx, gy) & seen
        assert inside.sum() * grid.resolution**2 > 1.0, room.id


def test_home_is_roughly_12_by_9_metres(layout):
    house = [r for r in layout.rooms if r.id not in layout.outside_rooms]
    pts = np.array([p for r in house for p in r.polygon])
    assert math.isclose(np.ptp(pts[:, 0]), 12.0, abs_tol=1.0)
    assert math.isclose(np.ptp(pts[:, 1]), 9.0, abs_tol=1.0)


def test_seed_zero_is_the_canonical_home_and_other_seeds_vary_it(layout):
    assert layout.randomized(0) == layout
    variant = layout.randomized(7)
    assert variant == layout.randomized(7)
    assert variant.object_by_id("cup_red").position != layout.object_by_id("cup_red").position
    assert variant.object_by_id("cup_red").on == "kitchen_counter"
    assert any(o.cls == "block" for o in variant.objects)


def test_randomized_floor_objects_stay_out_of_doorways(layout):
    for seed in range(1, 12):
        variant = layout.randomized(seed)
        for obj in variant.objects:
            if not obj.on:
                for doorway in variant.doorways:
                    assert math.dist(obj.position[:2], doorway.center) > 0.8


def test_bad_doorway_width_is_rejected(tmp_path):
    text = load_home_layout.__globals__["DEFAULT_HOME_PATH"].read_text(encoding="utf-8")
    bad = tmp_path / "home.yaml"
    bad.write_text(text.replace("center: [5.5, 7.0], width: 1.0", "center: [5.5, 7.0], width: 1.4"), encoding="utf-8")
    with pytest.raises(LayoutError, match="door_kitchen_living"):
        load_home_layout(bad)


def test_layout_import_does_not_load_pybullet():
    code = "import sys, sim, sim.home_layout; sim.home_layout.load_home_layout().scene_graph(); print('pybullet' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
