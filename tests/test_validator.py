"""The validator refuses any step that is not allowlisted, grounded, capable and possible, whoever wrote it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cloud_planner.backend import plan_command, validated_events
from cloud_planner.errors import PlanRejected, ValidationError
from cloud_planner.plan import Command, Plan, PlanHeader, PlanStep
from cloud_planner.validator import Validator, validate_plan
from reflexarc.scene_graph import SceneGraph
from sim.home_layout import load_home_layout


@pytest.fixture(scope="module")
def scene() -> SceneGraph:
    return load_home_layout().scene_graph()


def step(index: int, robot: str, skill: str, on_failure: tuple[PlanStep, ...] = (), **args) -> PlanStep:
    return PlanStep(index, robot, skill, args, {}, on_failure)


FETCH_RED_CUP = (
    step(0, "robot1", "navigate_to", target="kitchen_counter"),
    step(1, "robot1", "look_for", object="cup_red"),
    step(2, "robot1", "pick", object="cup_red"),
    step(3, "robot1", "navigate_to", target="user"),
    step(4, "robot1", "handover", object="cup_red", person="user"),
)


def plan_of(*steps: PlanStep) -> Plan:
    return Plan("p-test", 0, "test", "en", "", tuple(steps), "hand")


def rejection(scene: SceneGraph, *steps: PlanStep) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        validate_plan(plan_of(*steps), scene)
    return caught.value


def test_a_valid_fetch_plan_passes_and_its_simulated_outcome_is_the_cup_with_the_user(scene):
    final = validate_plan(plan_of(*FETCH_RED_CUP), scene)
    assert final.get("cup_red").held_by == "user"
    assert final.get("robot1").room == "living_room"


def test_a_skill_outside_the_library_is_refused_and_the_library_listed(scene):
    error = rejection(scene, step(0, "robot1", "open_door", door="front_door_lock"))
    assert error.code.value == "unsupported_action" and error.step_index == 0
    assert "open_door" in error.message and "navigate_to" in error.candidates


def test_an_unknown_robot_is_refused(scene):
    error = rejection(scene, step(0, "robot9", "navigate_to", target="kitchen"))
    assert error.code.value == "unknown_entity" and "robot1" in error.candidates


def test_a_robot_without_the_skill_is_refused_and_capable_robots_named(scene):
    error = rejection(scene, step(0, "vacuum1", "navigate_to", target="kitchen"), step(1, "vacuum1", "pick",
                                                                                         object="cup_red"))
    assert error.code.value == "no_capable_robot" and error.step_index == 1
    assert error.candidates == ("robot1",)


def test_an_argument_naming_no_entity_is_refused_with_what_exists(scene):
    error = rejection(scene, step(0, "robot1", "look_for", object="cup_purple"))
    assert error.code.value == "unknown_object" and "cup_purple" in error.message
    assert {"cup_red", "cup_blue", "luggage"} <= set(error.candidates)


def test_an_entity_of_the_wrong_kind_is_refused(scene):
    error = rejection(scene, step(0, "robot1", "navigate_to", target="cup_red"))
    assert error.code.value == "invalid_argument" and "kitchen" in error.candidates


@pytest.mark.parametrize("args", [{}, {"target": "kitchen", "speed": "fast"}], ids=["missing", "extra"])
def test_missing_or_extra_arguments_are_refused(scene, args):
    error = rejection(scene, PlanStep(0, "robot1", "navigate_to", args))
    assert error.code.value == "invalid_argument"


def test_placing_an_object_the_robot_does_not_hold_is_refused(scene):
    error = rejection(scene, step(0, "robot1", "navigate_to", target="coffee_table"),
                      step(1, "robot1", "place", object="cup_red", on="coffee_table"))
    assert error.code.value == "precondition_failed" and "hold" in error.message


def test_picking_the_luggage_is_refused_and_the_dog_suggested(scene):
    error = rejection(scene, step(0, "robot1", "navigate_to", target="car"), step(1, "robot1", "pick",
                                                                                    object="luggage"))
    assert error.code.value == "precondition_failed" and error.candidates == ("dog1",)


def test_picking_in_another_room_without_going_there_is_refused(scene):
    error = rejection(scene, step(0, "robot1", "pick", object="cup_red"))
    assert error.code.value == "precondition_failed" and "navigate" in error.message


def test_cleaning_a_room_the_vacuum_is_not_in_is_refused(scene):
    error = rejection(scene, step(0, "vacuum1", "clean_area", room="kitchen"))
    assert error.code.value == "precondition_failed"


def test_the_front_door_can_be_locked_but_never_unlocked(scene):
    validate_plan(plan_of(step(0, "robot1", "set_device", device="front_door_lock", state="locked")), scene)
    error = rejection(scene, step(0, "robot1", "set_device", device="front_door_lock", state="unlocked"))
    assert error.code.value == "forbidden_state" and error.candidates == ("locked",)


def test_the_thermostat_is_bounded_by_its_range(scene):
    validate_plan(plan_of(step(0, "robot1", "set_device", device="thermostat", state="21.5")), scene)
    assert rejection(scene, step(0, "robot1", "set_device", device="thermostat", state="35")).code.value == \
        "out_of_range"
    assert rejection(scene, step(0, "robot1", "set_device", device="thermostat", state="warm")).code.value == \
        "invalid_argument"


def test_a_state_a_device_does_not_have_is_refused(scene):
    error = rejection(scene, step(0, "robot1", "set_device", device="light_kitchen", state="dim"))
    assert error.code.value == "invalid_argument" and set(error.candidates) == {"on", "off"}


def test_docks_are_not_controllable_devices(scene):
    error = rejection(scene, step(0, "robot1", "set_device", device="dock_dog", state="free"))
    assert error.code.value == "forbidden_state"


@pytest.mark.parametrize(("seconds", "code"), [(601.0, "out_of_range"), (-1.0, "out_of_range"),
                                               ("ten", "invalid_argument"), (True, "invalid_argument"),
                                               (float("nan"), "invalid_argument")])
def test_wait_takes_a_number_of_seconds_between_0_and_600(scene, seconds, code):
    assert rejection(scene, step(0, "robot1", "wait", seconds=seconds)).code.value == code


def test_say_needs_some_text(scene):
    assert rejection(scene, step(0, "robot1", "say", text="  ")).code.value == "invalid_argument"


def test_a_bad_contingency_is_refused_as_part_of_its_parent_step(scene):
    bad_fallback = (step(0, "robot1", "navigate_to", target="attic"), step(1, "robot1", "look_for", object="cup_red"))
    error = rejection(scene, FETCH_RED_CUP[0], step(1, "robot1", "look_for", bad_fallback, object="cup_red"))
    assert error.code.value == "unknown_entity" and error.step_index == 1 and "attic" in error.message


def test_contingencies_are_checked_from_the_state_before_their_parent(scene):
    # The fallback picks in the kitchen: valid only because the robot is there before step 1 runs.
    fallback = (step(0, "robot1", "look_for", object="cup_red"), step(1, "robot1", "pick", object="cup_red"))
    final = validate_plan(plan_of(FETCH_RED_CUP[0], step(1, "robot1", "pick", fallback, object="cup_red")), scene)
    assert final.get("cup_red").held_by == "robot1"


def test_steps_must_come_in_index_order(scene):
    error = rejection(scene, FETCH_RED_CUP[0], FETCH_RED_CUP[2])
    assert error.code.value == "invalid_argument" and "order" in error.message


def test_the_incremental_validator_checks_one_step_at_a_time(scene):
    validator = Validator(scene)
    validator.check_step(FETCH_RED_CUP[0])
    validator.check_step(FETCH_RED_CUP[1])
    validator.check_step(FETCH_RED_CUP[2])
    assert validator.state.get("cup_red").held_by == "robot1"
    with pytest.raises(ValidationError) as caught:
        validator.check_step(step(3, "robot1", "pick", object="cup_blue"))
    assert "already holds cup_red" in caught.value.message


def test_a_revision_is_validated_from_its_own_first_index(scene):
    validator = Validator(scene, start_index=3)
    validator.check_step(step(3, "robot1", "navigate_to", target="kitchen"))
    assert validator.state.get("robot1").room == "kitchen"


class _ScriptedBackend:
    """A backend that returns a fixed plan: stands in for an LLM that made something up."""

    name = "scripted"

    def __init__(self, steps: tuple[PlanStep, ...]) -> None:
        self.steps = steps

    def plan(self, command: Command, scene: SceneGraph, *, facts=()) -> Iterator[PlanHeader | PlanStep]:
        yield PlanHeader("p-scripted", command.text, "en", "", len(self.steps), self.name)
        yield from self.steps


def test_every_backend_goes_through_the_validator_and_no_bad_step_is_ever_yielded(scene):
    backend = _ScriptedBackend((FETCH_RED_CUP[0], step(1, "robot1", "self_destruct")))
    events = validated_events(backend, Command("do it"), scene)
    assert isinstance(next(events), PlanHeader)
    assert next(events) == FETCH_RED_CUP[0]
    with pytest.raises(ValidationError) as caught:
        next(events)
    assert caught.value.code.value == "unsupported_action"


def test_a_backend_whose_header_miscounts_its_steps_is_refused(scene):
    class Short(_ScriptedBackend):
        def plan(self, command, scene, *, facts=()):
            yield PlanHeader("p", command.text, "en", "", 9, self.name)
            yield from self.steps

    with pytest.raises(ValidationError):
        plan_command(Short(FETCH_RED_CUP), Command("x"), scene)


def test_a_crashing_backend_becomes_a_backend_error_rejection(scene):
    class Broken(_ScriptedBackend):
        def plan(self, command, scene, *, facts=()):
            raise ConnectionError("model endpoint unreachable")

    with pytest.raises(PlanRejected) as caught:
        plan_command(Broken(()), Command("x"), scene)
    assert caught.value.code.value == "backend_error"
    assert "unreachable" in caught.value.message
