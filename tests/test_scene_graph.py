"""The scene graph is plain, hashable data that round-trips through its JSON shape."""

from __future__ import annotations

import pytest

from reflexarc.scene_graph import Device, Pose2D, Robot, Room, SceneGraph, SceneGraphError, SceneObject

_KITCHEN = Room("kitchen", "kitchen", ((0.0, 0.0), (4.0, 0.0), (4.0, 3.0), (0.0, 3.0)), ("주방", "부엌"))
_LIVING = Room("living_room", "living room", ((4.0, 0.0), (9.0, 0.0), (9.0, 3.0), (4.0, 3.0)), ("거실",))


def _scene() -> SceneGraph:
    return SceneGraph(
        rooms=(_KITCHEN, _LIVING),
        objects=(SceneObject("cup_red", "cup", "red", (1.0, 1.0, 0.9), "kitchen"),),
        devices=(
            Device("thermostat", "thermostat", "living_room", "20", value_range=(16.0, 30.0)),
            Device("light_kitchen", "light", "kitchen", "off", allowed_states=("on", "off")),
        ),
        robots=(Robot("robot1", "manipulator", ("navigate_to", "pick"), Pose2D(5.0, 1.0), "living_room"),),
    )


def test_json_round_trip_preserves_every_entity():
    scene = _scene()
    assert SceneGraph.from_json(scene.to_json()) == scene


def test_content_hash_changes_with_device_state_only_when_state_changes():
    scene = _scene()
    assert scene.content_hash() == SceneGraph.from_json(scene.to_json()).content_hash()
    assert scene.with_device_state("light_kitchen", "on").content_hash() != scene.content_hash()


def test_room_lookup_by_point():
    scene = _scene()
    assert scene.room_at(1.0, 1.0).id == "kitchen"
    assert scene.room_at(6.0, 2.0).id == "living_room"
    assert scene.room_at(20.0, 2.0) is None


def test_device_accepts_only_allowed_states_and_in_range_values():
    thermostat, light = _scene().devices
    assert thermostat.accepts("22") and not thermostat.accepts("35") and not thermostat.accepts("warm")
    assert light.accepts("on") and not light.accepts("unlocked")


def test_duplicate_ids_are_rejected():
    with pytest.raises(SceneGraphError, match="duplicate entity id 'kitchen'"):
        SceneGraph(rooms=(_KITCHEN, _KITCHEN))


def test_entity_in_unknown_room_is_rejected():
    with pytest.raises(SceneGraphError, match="unknown room 'garage'"):
        SceneGraph(rooms=(_KITCHEN,), objects=(SceneObject("cup", "cup", "red", (0, 0, 0), "garage"),))


@pytest.mark.parametrize("text", ["", "[]", "{not json", '{"rooms": [{"id": "x"}]}'])
def test_malformed_json_gives_a_scene_graph_error(text):
    with pytest.raises(SceneGraphError):
        SceneGraph.from_json(text)


def test_dangling_support_reference_is_rejected():
    with pytest.raises(SceneGraphError, match="'cup'.on refers to unknown entity 'shelf'"):
        SceneGraph(rooms=(_KITCHEN,), objects=(SceneObject("cup", "cup", "red", (0, 0, 0), "kitchen", on="shelf"),))


def test_non_finite_coordinates_are_rejected():
    with pytest.raises(SceneGraphError, match="non-finite"):
        SceneGraph(rooms=(_KITCHEN,), objects=(SceneObject("cup", "cup", "red", (float("nan"), 0, 0), "kitchen"),))
    with pytest.raises(SceneGraphError, match="non-finite"):
        SceneGraph(rooms=(_KITCHEN,), robots=(Robot("r", "vacuum", (), Pose2D(0.0, float("inf")), "kitchen"),))
