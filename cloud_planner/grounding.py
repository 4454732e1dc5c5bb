"""Grounding: from described things ("the red mug from the kitchen") to entity ids of the scene.

Exact class matches beat synonyms (a "cup" is a cup before it is a mug, but a "green cup" is the green
mug when there is no green cup). An object the scene does not contain is refused with a message that
names it and lists what exists; when several fit, the one in the stated room (or on the stated
furniture) wins, else the nearest, and the choice is recorded as a note for the plan summary. Robots
are chosen by capability, then by the kind suited to the job, then by distance.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NoReturn

from cloud_planner.errors import PlanRejected, RejectCode
from cloud_planner.intents import ObjectRef, PlaceRef
from cloud_planner.lexicon import CLASS_SYNONYM_GROUPS, display_name
from cloud_planner.world import entity_pose
from reflexarc.scene_graph import Pose2D, Robot, SceneGraph, SceneObject

__all__ = ["Grounder", "GroundedObject", "describe_object"]


def describe_object(obj: SceneObject) -> str:
    """``red cup (cup_red) on the kitchen counter``: how the planner names an object to people."""
    where = f"on the {display_name(obj.on)}" if obj.on else f"in the {display_name(obj.room)}" if obj.room else ""
    if obj.held_by:
        where = f"held by {obj.held_by}"
    return " ".join(p for p in (f"{obj.colour} {obj.cls}".strip(), f"({obj.id})", where) if p)


@dataclass(frozen=True)
class GroundedObject:
    """An object chosen for a description, with the reason when the choice was not obvious."""

    id: str
    note: str = ""


def _distance(a: Pose2D | None, b: Pose2D | None) -> float:
    if a is None or b is None:
        return math.inf
    return math.hypot(a.x - b.x, a.y - b.y)


def _synonyms(cls: str) -> frozenset[str]:
    for group in CLASS_SYNONYM_GROUPS:
        if cls in group:
            return group
    return frozenset({cls})


class Grounder:
    """Resolves descriptions against one scene (the planner's current simulated state)."""

    def __init__(self, scene: SceneGraph) -> None:
        self.scene = scene

    # --- objects -------------------------------------------------------------------------------------

    def _matches(self, ref: ObjectRef, synonyms: bool) -> list[SceneObject]:
        found = []
        for obj in self.scene.objects:
            if ref.cls:
                if synonyms and obj.cls not in _synonyms(ref.cls):
                    continue
                if not synonyms and obj.cls != ref.cls:
                    continue
            if ref.name and ref.name not in obj.id.split("_") and ref.name != obj.cls:
                continue
            if ref.colour and obj.colour != ref.colour:
                continue
            found.append(obj)
        return found

    def object(self, ref: ObjectRef, source: Sequence[PlaceRef], near: Pose2D | None,
               near_label: str = "") -> GroundedObject:
        """The object meant by ``ref``; raises PlanRejected (unknown_object) naming it if none exists."""
        if ref.is_empty:
            if ref.unknown_words:
                self._reject_unknown(ref)
            raise PlanRejected(
                RejectCode.NOT_UNDERSTOOD,
                "which object? I know: " + ", ".join(describe_object(o) for o in self.scene.objects),
                [o.id for o in self.scene.objects],
            )
        found = self._matches(ref, synonyms=False) or self._matches(ref, synonyms=True)
        if not found:
            self._reject_unknown(ref)
        if len(found) == 1:
            return GroundedObject(found[0].id)
        described = ref.describe()
        stated = [p for p in source if p.kind in ("room", "furniture", "furniture_class")]
        if stated:
            in_stated = [o for o in found if any(self._object_at(o, p) for p in stated)]
            if len(in_stated) == 1:
                where = display_name(stated[0].value)
                return GroundedObject(
                    in_stated[0].id,
                    f"{len(found)} objects match '{described}': chose {describe_object(in_stated[0])} because you "
                    f"said {where}.",
                )
            if in_stated:
                found = in_stated
        ranked = sorted(found, key=lambda o: (_distance(entity_pose(self.scene, o.id), near), o.id))
        chosen = ranked[0]
        others = ", ".join(o.id for o in ranked[1:])
        return GroundedObject(
            chosen.id,
            f"{len(found)} objects match '{described}': chose {describe_object(chosen)}, the nearest"
            f"{' to ' + near_label if near_label else ''} (also: {others}).",
        )

    def _object_at(self, obj: SceneObject, place: PlaceRef) -> bool:
        if place.kind == "room":
            return obj.room == place.value
        if place.kind == "furniture":
            return obj.on == place.value
        if place.kind == "furniture_class":
            furniture = self.scene.get(obj.on)
            return furniture is not None and getattr(furniture, "cls", "") == place.value
        return False

    def _reject_unknown(self, ref: ObjectRef) -> None:
        described = ref.describe()
        same_class = [o for o in self.scene.objects if ref.cls and o.cls in _synonyms(ref.cls)]
        listed = same_class or list(self.scene.objects)
        kind = "objects like that" if same_class else "objects"
        raise PlanRejected(
            RejectCode.UNKNOWN_OBJECT,
            f"there is no {described} here; {kind} I know: " + "; ".join(describe_object(o) for o in listed),
            [o.id for o in listed],
        )

    # --- places, devices, people ---------------------------------------------------------------------

    def unknown_place_candidates(self, kind: str) -> tuple[str, list[str]]:
        """``(label, ids)`` of what exists of ``kind`` (room, furniture, place or device)."""
        rooms = [r.id for r in self.scene.rooms]
        furniture = [f.id for f in self.scene.furniture]
        if kind == "room":
            return "rooms", rooms
        if kind == "furniture":
            return "furniture", furniture
        if kind == "device":
            return "controllable devices", [d.id for d in self.scene.devices if d.kind != "dock"]
        return "places", rooms + furniture + [p.id for p in self.scene.people]

    def reject_unknown_place(self, words: str, kind: str) -> NoReturn:
        """Refuse a room/furniture/device word the scene does not have, listing what it does have.

        Substituting a default (the speaker, the living-room light) would act on something nobody named.
        """
        label, candidates = self.unknown_place_candidates(kind)
        what = {"room": "room", "furniture": "furniture", "device": "device"}.get(kind, "place")
        raise PlanRejected(
            RejectCode.UNKNOWN_ENTITY,
            f"there is no {what} called {words!r} here; {label} I know: {', '.join(candidates)}",
            candidates,
        )

    def speaker(self) -> str:
        """The person giving commands: ``user`` if present, else the first person."""
        if "user" in self.scene:
            return "user"
        if self.scene.people:
            return self.scene.people[0].id
        raise PlanRejected(RejectCode.UNKNOWN_ENTITY, "there is nobody in the scene to hand things to")

    def place(self, ref: PlaceRef, near: Pose2D | None, rooms: Iterable[str] = ()) -> tuple[str, str]:
        """``(entity id, note)`` of a described place (a furniture class resolves by room, then distance)."""
        if ref.kind == "speaker":
            return self.speaker(), ""
        if ref.kind in ("room", "furniture", "person"):
            if ref.value not in self.scene:
                raise PlanRejected(RejectCode.UNKNOWN_ENTITY, f"there is no {display_name(ref.value)} here")
            return ref.value, ""
        if ref.kind == "furniture_class":
            found = [f for f in self.scene.furniture if f.cls == ref.value]
            if not found:
                raise PlanRejected(
                    RejectCode.UNKNOWN_ENTITY,
                    f"there is no {display_name(ref.value)} here; furniture I know: "
                    + ", ".join(f.id for f in self.scene.furniture),
                    [f.id for f in self.scene.furniture],
                )
            rooms = set(rooms)
            in_room = [f for f in found if f.room in rooms]
            if len(in_room) == 1 or (in_room and len(found) > 1):
                found = in_room
            if len(found) == 1:
                return found[0].id, ""
            ranked = sorted(found, key=lambda f: (_distance(f.pose, near), f.id))
            reason = "the nearest" if near is not None else "the first by name"
            return ranked[0].id, (
                f"{len(found)} places are a {display_name(ref.value)}: chose the {display_name(ranked[0].id)}, "
                f"{reason}."
            )
        raise PlanRejected(RejectCode.UNKNOWN_ENTITY, f"cannot go to {ref.surface or ref.value!r}")

    def devices(self, kind: str, rooms: Sequence[str], all_devices: bool) -> tuple[list[str], str]:
        """``(device ids, note)`` for "the kitchen light", "all the lights", "the thermostat"."""
        found = [d for d in self.scene.devices if d.kind == kind]
        if not found:
            controllable = [d.id for d in self.scene.devices if d.kind != "dock"]
            raise PlanRejected(
                RejectCode.UNKNOWN_ENTITY,
                f"there is no {display_name(kind)} here; devices I can control: {', '.join(controllable)}",
                controllable,
            )
        if rooms:
            in_rooms = [d for d in found if d.room in rooms]
            if not in_rooms:
                raise PlanRejected(
                    RejectCode.UNKNOWN_ENTITY,
                    f"there is no {display_name(kind)} in the {' or '.join(display_name(r) for r in rooms)}; "
                    f"{display_name(kind)}s: {', '.join(d.id for d in found)}",
                    [d.id for d in found],
                )
            return [d.id for d in in_rooms], ""
        if all_devices or len(found) == 1:
            return [d.id for d in found], ""
        speaker_room = ""
        if self.scene.people:
            person = self.scene.get(self.speaker())
            speaker_room = getattr(person, "room", "")
        here = [d for d in found if d.room == speaker_room]
        if here:
            return [d.id for d in here], f"the {display_name(kind)} in the {display_name(speaker_room)}, where you are"
        return [found[0].id], f"chose {found[0].id}"

    # --- robots --------------------------------------------------------------------------------------

    def robot(
        self,
        skills: Iterable[str],
        prefer_kinds: Sequence[str] = (),
        robot_id: str = "",
        robot_kind: str = "",
        near: Pose2D | None = None,
        job: str = "",
    ) -> str:
        """The robot for a job: one with every skill, of a preferred kind, nearest ``near``."""
        needed = set(skills)
        robots: list[Robot] = list(self.scene.robots)
        if robot_id:
            robots = [r for r in robots if r.id == robot_id]
            if not robots:
                raise PlanRejected(RejectCode.UNKNOWN_ENTITY, f"there is no robot {robot_id!r}",
                                   [r.id for r in self.scene.robots])
        elif robot_kind:
            robots = [r for r in robots if r.kind == robot_kind]
            if not robots:
                raise PlanRejected(RejectCode.UNKNOWN_ENTITY, f"there is no {robot_kind} robot here",
                                   [r.id for r in self.scene.robots])
        capable = [r for r in robots if needed <= set(r.capabilities)]
        if not capable:
            able = [r.id for r in self.scene.robots if needed <= set(r.capabilities)]
            who = robot_id or (f"the {robot_kind}" if robot_kind else "no robot here")
            raise PlanRejected(
                RejectCode.NO_CAPABLE_ROBOT,
                f"{who} cannot {job or ', '.join(sorted(needed))}"
                + (f"; robots that can: {', '.join(able)}" if able else ""),
                able,
            )

        def rank(r: Robot) -> tuple[int, float, str]:
            kind_rank = prefer_kinds.index(r.kind) if r.kind in prefer_kinds else len(prefer_kinds)
            return (kind_rank, _distance(r.pose, near), r.id)

        return min(capable, key=rank).id
