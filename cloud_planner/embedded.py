"""The embedded planner: rule-based, no network, no weights, deterministic (the default backend).

Each intent of the command becomes a short sequence of skills for the robot suited to it (the
manipulator fetches and switches devices, the dog carries luggage, the vacuum cleans), planned over a
simulated scene so that compound commands chain ("pick up the red cup and put it on the coffee
table" does not pick twice). Steps that can fail carry their contingency: a look_for ships with the
next places to look (the red cup not on the counter: the dining table, then the sink). Facts from a
re-plan narrow the search and mark finished work so it is not repeated. The output still goes
through the validator like any other backend's (``cloud_planner.backend.validated_events``).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field

from cloud_planner.backend import BackendOptions, PlanEvent
from cloud_planner.errors import PlanRejected, RejectCode
from cloud_planner.grounding import Grounder
from cloud_planner.intents import Action, Intent, ObjectRef, ParsedCommand, PlaceRef, parse_command
from cloud_planner.language import detect_language
from cloud_planner.lexicon import Vocabulary, display_name
from cloud_planner.plan import ArgValue, Command, CommandSource, Fact, Plan, PlanStep, make_plan_id
from cloud_planner.world import (
    DID,
    NOT_FOUND_IN,
    NOT_FOUND_ON,
    apply_facts,
    apply_step,
    done_fact,
    entity_pose,
)
from reflexarc.scene_graph import Device, Furniture, Person, Robot, Room, SceneGraph, SceneObject

__all__ = ["EVENT_COMMANDS", "EmbeddedBackend", "SEARCH_SURFACE_ORDER", "SUPPORTED_ACTIONS"]

# Where things are usually put down, in the order the planner searches them.
SEARCH_SURFACE_ORDER = ("counter", "table", "sink", "shelf", "tv_stand", "sofa", "bed")
MAX_ALTERNATIVES = 2
# Home events (Command.source == EVENT) and the utterance each stands for.
EVENT_COMMANDS = {"car_arrived": "i am home", "arrived_home": "i am home", "owner_arrived": "i am home"}
SUPPORTED_ACTIONS = (
    "bring/fetch/put an object", "pick up an object", "go to a place", "clean a room",
    "turn lights on/off", "set the thermostat", "switch the air purifier", "lock the door", "carry luggage",
    "I'm home", "stop", "say something", "wait", "dock",
)
_WELCOME = {"en": "Welcome home!", "ko": "어서 오세요!"}
_CACHE_SIZE = 32


@dataclass
class _Draft:
    """A plan being built: the simulated scene, the steps so far, notes for the summary."""

    scene: SceneGraph
    facts: tuple[Fact, ...]
    language: str
    steps: list[PlanStep] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    phrases: list[str] = field(default_factory=list)

    @property
    def done(self) -> frozenset[Fact]:
        return frozenset(f for f in self.facts if f.predicate == DID)

    def was_done(self, step: PlanStep) -> bool:
        return done_fact(step) in self.done

    def add(self, step: PlanStep) -> None:
        self.steps.append(PlanStep(len(self.steps), step.robot, step.skill, step.args, step.expect,
                                   step.on_failure, step.summary))
        self.scene = apply_step(self.scene, step)


def _step(robot: str, skill: str, args: dict[str, ArgValue], expect: dict[str, str] | None = None,
          summary: str = "", on_failure: tuple[PlanStep, ...] = ()) -> PlanStep:
    return PlanStep(0, robot, skill, args, expect or {}, tuple(s.with_index(i) for i, s in enumerate(on_failure)),
                    summary)


def _what(obj: SceneObject) -> str:
    """``red cup (cup_red)``."""
    return f"{obj.colour} {obj.cls} ({obj.id})".strip()


def _where(obj: SceneObject) -> str:
    """``from the kitchen counter`` (empty when held)."""
    place = obj.on or obj.room
    return f" from the {display_name(place)}" if place and not obj.held_by else ""


def _navigate(robot: str, target: str, room: str) -> PlanStep:
    return _step(robot, "navigate_to", {"target": target}, {f"{robot}.room": room},
                 f"{robot} goes to the {display_name(target)}")


class EmbeddedBackend:
    """Rule-based English/Korean planner over the scene graph (see module docstring)."""

    name = "embedded"

    def __init__(self, options: BackendOptions | None = None) -> None:
        self._options = options or BackendOptions()
        self._cache: OrderedDict[object, object] = OrderedDict()
        self._lock = threading.Lock()

    def _cached(self, key: object, make):
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        value = make()
        with self._lock:
            self._cache[key] = value
            while len(self._cache) > _CACHE_SIZE:
                self._cache.popitem(last=False)
        return value

    def vocabulary(self, scene: SceneGraph) -> Vocabulary:
        """The scene's vocabulary, cached by the names it is built from (cheap to compare)."""
        key = (
            "vocab",
            tuple((r.id, r.name, r.aliases) for r in scene.rooms),
            tuple((f.id, f.cls) for f in scene.furniture),
            tuple((o.id, o.cls, o.colour) for o in scene.objects),
            tuple(d.kind for d in scene.devices),
            tuple(r.id for r in scene.robots),
            tuple((p.id, p.name) for p in scene.people),
        )
        return self._cached(key, lambda: Vocabulary.from_scene(scene))

    def scene_hash(self, scene: SceneGraph) -> str:
        """``scene.content_hash()``, cached for the scene object a session reuses across commands.

        The cache entry keeps the scene alive, so its ``id`` cannot be reused while the entry exists.
        """
        return self._cached(("hash", id(scene)), lambda: (scene, scene.content_hash()))[1]

    def plan(self, command: Command, scene: SceneGraph, *, facts: tuple[Fact, ...] = ()) -> Iterator[PlanEvent]:
        """Yield the header and every step (the whole plan is built first: about a millisecond)."""
        yield from self.make_plan(command, scene, facts).events()

    def parse(self, command: Command, scene: SceneGraph) -> ParsedCommand:
        """The command's intents (events are mapped to the utterance they stand for)."""
        text = command.text
        if command.source == CommandSource.EVENT or text.strip().lower() in EVENT_COMMANDS:
            text = EVENT_COMMANDS.get(text.strip().lower(), text)
        language = command.language if command.language in ("en", "ko") else detect_language(command.text)
        return parse_command(text, self.vocabulary(scene), language)

    def make_plan(self, command: Command, scene: SceneGraph, facts: tuple[Fact, ...] = ()) -> Plan:
        """The complete (not yet validated) plan; raises PlanRejected for commands it cannot plan."""
        if not command.text.strip():
            raise PlanRejected(RejectCode.NOT_UNDERSTOOD, "the command is empty")
        parsed = self.parse(command, scene)
        facts = tuple(sorted(set(facts)))
        draft = _Draft(apply_facts(scene, facts), facts, parsed.language)
        cancel = False
        if not parsed.intents:
            raise PlanRejected(RejectCode.NOT_UNDERSTOOD, f"I did not understand {command.text!r}",
                               SUPPORTED_ACTIONS)
        for intent in parsed.intents:
            if intent.action is Action.STOP:
                cancel = True
                draft.phrases.append("stop and cancel the current plan")
                continue
            for words, kind in intent.unknown_places:
                _grounder(draft).reject_unknown_place(words, kind)
            _PLANNERS[intent.action](draft, intent)
        summary = "; ".join(draft.phrases)
        if draft.notes:
            summary += ". " + " ".join(draft.notes)
        scene_hash = self.scene_hash(scene)
        return Plan(
            plan_id=make_plan_id(self.name, parsed.normalised, scene_hash, facts),
            revision=0,
            command=parsed.normalised,
            language=parsed.language,
            summary=summary,
            steps=tuple(draft.steps),
            backend=self.name,
            scene_hash=scene_hash,
            cancel=cancel and not draft.steps,
        )


# --- per-action planners -----------------------------------------------------------------------------


def _grounder(draft: _Draft) -> Grounder:
    return Grounder(draft.scene)


def _robot(draft: _Draft, intent: Intent, skills: tuple[str, ...], prefer: tuple[str, ...], near_id: str = "",
           job: str = "") -> str:
    near = entity_pose(draft.scene, near_id) if near_id else None
    return _grounder(draft).robot(skills, prefer, intent.robot, intent.robot_kind, near, job)


def _search_spots(draft: _Draft, obj: SceneObject, stated: tuple[PlaceRef, ...]) -> list[str]:
    """Places to look for ``obj``, most likely first, minus those already searched in vain."""
    scene = draft.scene
    excluded = {f.object for f in draft.facts if f.subject == obj.id and f.predicate in (NOT_FOUND_ON, NOT_FOUND_IN)}
    first = obj.on or obj.room
    home_room = obj.room

    def surface_rank(f: Furniture) -> tuple[int, int, str]:
        order = SEARCH_SURFACE_ORDER.index(f.cls) if f.cls in SEARCH_SURFACE_ORDER else len(SEARCH_SURFACE_ORDER)
        return (0 if f.room == home_room else 1, order, f.id)

    surfaces = sorted(
        (f for f in scene.furniture if f.cls in SEARCH_SURFACE_ORDER and f.id != first), key=surface_rank
    )
    spots = [first, *(f.id for f in surfaces)]
    for place in stated:
        # Where the person says it is comes right after where the scene says it is.
        if place.value not in scene or place.value in spots:
            continue
        if place.kind == "furniture" or (place.kind == "room" and place.value != obj.room):
            spots.insert(1, place.value)
    return [s for s in spots if s and s not in excluded]


def _look_for_with_fallbacks(draft: _Draft, robot: str, obj: SceneObject, spots: list[str]) -> PlanStep:
    """look_for at the first spot, carrying "else go to the next spot and look there" chains."""
    chain: tuple[PlanStep, ...] = ()
    for spot in reversed(spots[1 : 1 + MAX_ALTERNATIVES]):
        room = getattr(draft.scene.get(spot), "room", spot)
        look = _step(robot, "look_for", {"object": obj.id}, {f"{obj.id}.visible": "true"},
                     f"look for the {obj.colour} {obj.cls} at the {display_name(spot)}", chain)
        chain = (_navigate(robot, spot, room), look)
    return _step(robot, "look_for", {"object": obj.id}, {f"{obj.id}.visible": "true"},
                 f"look for the {obj.colour} {obj.cls} at the {display_name(spots[0])}", chain)


def _acquire(draft: _Draft, robot: str, obj: SceneObject, stated: tuple[PlaceRef, ...]) -> None:
    """Steps that end with ``robot`` holding ``obj``: go where it should be, look, pick."""
    if obj.held_by == robot:
        return
    if isinstance(draft.scene.get(obj.held_by), Robot):
        raise PlanRejected(RejectCode.PRECONDITION_FAILED, f"{obj.id} is held by {obj.held_by}", [obj.held_by])
    spots = _search_spots(draft, obj, stated)
    searched = sorted({f.object for f in draft.facts
                       if f.subject == obj.id and f.predicate in (NOT_FOUND_ON, NOT_FOUND_IN)})
    if not spots:
        raise PlanRejected(
            RejectCode.OBJECT_NOT_FOUND,
            f"I could not find the {_what(obj)}; searched: {', '.join(display_name(p) for p in searched)}",
            [obj.id],
        )
    if searched:
        draft.notes.append(f"The {_what(obj)} was not found at the {', '.join(display_name(p) for p in searched)}: "
                           f"looking at the {display_name(spots[0])} next.")
    believed = obj.on or obj.room
    for place in stated:
        if place.kind == "room" and place.value != obj.room and place.value in spots:
            draft.notes.append(f"You said the {display_name(place.value)}, but the {_what(obj)} should be on the "
                               f"{display_name(believed)}: looking there first, then in the "
                               f"{display_name(place.value)}.")
    primary = spots[0]
    primary_room = getattr(draft.scene.get(primary), "room", primary) or primary
    draft.add(_navigate(robot, primary, primary_room))
    draft.add(_look_for_with_fallbacks(draft, robot, obj, spots))
    retry = (
        _step(robot, "look_for", {"object": obj.id}, {f"{obj.id}.visible": "true"}, f"look for the {obj.cls} again"),
        _step(robot, "pick", {"object": obj.id}, {f"{obj.id}.held_by": robot}, f"pick the {obj.cls} again"),
    )
    draft.add(_step(robot, "pick", {"object": obj.id}, {f"{obj.id}.held_by": robot},
                    f"pick the {obj.colour} {obj.cls}", retry))


def _ground_object(draft: _Draft, intent: Intent, robot_hint_near: str = "") -> tuple[SceneObject, str]:
    ref = intent.obj or ObjectRef()
    near_id = robot_hint_near or next((r.id for r in draft.scene.robots if r.kind == "manipulator"), "")
    grounded = _grounder(draft).object(ref, intent.source, entity_pose(draft.scene, near_id) if near_id else None,
                                       near_id)
    if grounded.note:
        draft.notes.append(grounded.note)
    return draft.scene.get(grounded.id), grounded.id


def _destination(draft: _Draft, intent: Intent, default_speaker: bool, near_id: str = "") -> str:
    """Where the intent goes; a furniture class ("the table") resolves nearest ``near_id``."""
    if intent.destination is None:
        return _grounder(draft).speaker() if default_speaker else ""
    rooms = [p.value for p in intent.source if p.kind == "room"] + list(intent.rooms)
    near = entity_pose(draft.scene, near_id) if near_id else None
    target, note = _grounder(draft).place(intent.destination, near, rooms)
    if note:
        draft.notes.append(note)
    return target


def _plan_fetch(draft: _Draft, intent: Intent) -> None:
    obj, _ = _ground_object(draft, intent)
    dest = _destination(draft, intent, default_speaker=True, near_id=obj.id)
    if not obj.graspable:
        _plan_carry_object(draft, intent, obj, dest)
        return
    target = draft.scene.get(dest)
    to_person = isinstance(target, Person)
    if not isinstance(target, (Person, Furniture)):
        if isinstance(target, Room):
            raise PlanRejected(RejectCode.NOT_UNDERSTOOD,
                               f"where in the {display_name(dest)} should the {obj.cls} go? name a person or furniture",
                               [f.id for f in draft.scene.furniture if f.room == dest])
        raise PlanRejected(RejectCode.NOT_UNDERSTOOD, f"cannot deliver to {dest}")
    if (to_person and obj.held_by == dest) or (not to_person and obj.on == dest):
        draft.phrases.append(f"the {obj.colour} {obj.cls} is already {'with' if to_person else 'on'} "
                             f"{display_name(dest)}")
        return
    skills = ("navigate_to", "look_for", "pick", "handover" if to_person else "place")
    robot = _robot(draft, intent, skills, ("manipulator",), obj.id, "fetch things")
    _acquire(draft, robot, draft.scene.get(obj.id), intent.source)
    dest_room = getattr(draft.scene.get(dest), "room", "")
    draft.add(_navigate(robot, dest, dest_room))
    if to_person:
        draft.add(_step(robot, "handover", {"object": obj.id, "person": dest}, {f"{obj.id}.held_by": dest},
                        f"hand the {obj.colour} {obj.cls} to {dest}"))
        draft.phrases.append(f"{robot} brings the {_what(obj)}{_where(obj)} to {dest}")
    else:
        draft.add(_step(robot, "place", {"object": obj.id, "on": dest}, {f"{obj.id}.on": dest},
                        f"put the {obj.colour} {obj.cls} on the {display_name(dest)}"))
        draft.phrases.append(f"{robot} puts the {_what(obj)}{_where(obj)} on the {display_name(dest)}")


def _plan_pick(draft: _Draft, intent: Intent) -> None:
    obj, _ = _ground_object(draft, intent)
    if not obj.graspable:
        _plan_carry_object(draft, intent, obj, "")
        return
    robot = _robot(draft, intent, ("navigate_to", "look_for", "pick"), ("manipulator",), obj.id, "pick things up")
    if obj.held_by == robot:
        return
    _acquire(draft, robot, obj, intent.source)
    draft.phrases.append(f"{robot} picks up the {_what(obj)}{_where(obj)}")


def _default_carry_target(draft: _Draft) -> str:
    if "entrance" in draft.scene:
        return "entrance"
    person = draft.scene.get(_grounder(draft).speaker())
    return getattr(person, "room", "")


def _plan_carry_object(draft: _Draft, intent: Intent, obj: SceneObject, dest: str) -> None:
    dest = dest or _default_carry_target(draft)
    if obj.room == getattr(draft.scene.get(dest), "room", dest) and obj.on in ("", dest):
        draft.phrases.append(f"the {obj.cls} is already in the {display_name(dest)}")
        return
    robot = _robot(draft, intent, ("navigate_to", "carry"), ("dog",), obj.id, f"carry the {obj.cls}")
    place = obj.on or obj.room
    draft.add(_navigate(robot, place, obj.room))
    dest_room = getattr(draft.scene.get(dest), "room", dest) or dest
    retry = (_navigate(robot, place, obj.room),
             _step(robot, "carry", {"object": obj.id, "to": dest}, {f"{obj.id}.room": dest_room},
                   f"try again to carry the {obj.cls}"))
    draft.add(_step(robot, "carry", {"object": obj.id, "to": dest}, {f"{obj.id}.room": dest_room},
                    f"carry the {obj.colour} {obj.cls} to the {display_name(dest)}", retry))
    draft.phrases.append(f"{robot} carries the {_what(obj)}{_where(obj)} to the {display_name(dest)}")


def _plan_carry(draft: _Draft, intent: Intent) -> None:
    if intent.obj is None or (intent.obj.is_empty and not intent.obj.unknown_words):
        intent = Intent(intent.action, intent.clause, ObjectRef(cls="luggage"), intent.source, intent.destination,
                        intent.rooms, robot=intent.robot, robot_kind=intent.robot_kind)
    obj, _ = _ground_object(draft, intent)
    dest = _destination(draft, intent, default_speaker=False, near_id=obj.id)
    if obj.graspable and isinstance(draft.scene.get(dest), (Person, Furniture)):
        _plan_fetch(draft, intent)
        return
    _plan_carry_object(draft, intent, obj, dest)


def _plan_go_to(draft: _Draft, intent: Intent) -> None:
    mover = _robot(draft, intent, ("navigate_to",), ("manipulator", "dog", "vacuum"), "", "move")
    dest = _destination(draft, intent, default_speaker=True, near_id=mover)
    robot = _robot(draft, intent, ("navigate_to",), ("manipulator", "dog", "vacuum"), dest, "move")
    room = getattr(draft.scene.get(dest), "room", dest) or dest
    draft.add(_navigate(robot, dest, room))
    draft.phrases.append(f"{robot} goes to the {display_name(dest)}")


def _plan_clean(draft: _Draft, intent: Intent) -> None:
    rooms = list(intent.rooms)
    if not rooms:
        person = draft.scene.get(_grounder(draft).speaker()) if draft.scene.people else None
        if person is None or not getattr(person, "room", ""):
            raise PlanRejected(RejectCode.NOT_UNDERSTOOD, "which room should be cleaned?",
                               [r.id for r in draft.scene.rooms])
        rooms = [person.room]
        draft.notes.append(f"Cleaning the {display_name(person.room)}, where you are.")
    robot = _robot(draft, intent, ("navigate_to", "clean_area"), ("vacuum",), rooms[0], "clean")
    todo = [r for r in rooms if done_fact(_step(robot, "clean_area", {"room": r})) not in draft.done]
    for room in todo:
        draft.add(_navigate(robot, room, room))
        draft.add(_step(robot, "clean_area", {"room": room}, {f"{room}.cleaned": "true"},
                        f"vacuum the {display_name(room)}"))
    if todo:
        robot_spec = draft.scene.get(robot)
        if isinstance(robot_spec, Robot) and robot_spec.dock and "dock" in robot_spec.capabilities:
            draft.add(_step(robot, "dock", {}, {f"{robot}.docked": "true"}, f"{robot} returns to its dock"))
    draft.phrases.append(f"{robot} cleans the {' and '.join(display_name(r) for r in rooms)}")


def _device_state(draft: _Draft, device_id: str, state: str) -> str:
    """Absolute state for relative thermostat changes ("+2" -> current + 2)."""
    if state[:1] in "+-" and state[1:].replace(".", "", 1).isdigit():
        device = draft.scene.get(device_id)
        try:
            return f"{float(device.state) + float(state):g}"
        except (AttributeError, ValueError):
            return state[1:]
    return state


def _refuse_forbidden_state(device: object, state: str) -> None:
    """Refuse a request to unlock a lock outright (never plan a different state instead).

    The validator refuses an unlock step too; refusing here gives the person the reason in words and
    makes sure no "nearest allowed" state (locking the door that was asked to open) is ever planned.
    """
    if isinstance(device, Device) and device.kind == "lock" and state == "unlocked":
        name = "the front door" if "front" in device.id else f"the {display_name(device.id)}"
        raise PlanRejected(
            RejectCode.FORBIDDEN_STATE,
            f"{name} is never unlocked by the robot: a person must unlock it ({device.id} may not be set to "
            f"'unlocked'; allowed: {', '.join(device.allowed_states) or 'nothing'})",
            device.allowed_states,
        )


def _plan_device(draft: _Draft, intent: Intent) -> None:
    if not intent.device_kind:
        raise PlanRejected(RejectCode.NOT_UNDERSTOOD, f"which device? ({intent.clause!r})",
                           [d.id for d in draft.scene.devices if d.kind != "dock"])
    if not intent.device_state:
        raise PlanRejected(RejectCode.NOT_UNDERSTOOD, f"on, off, or which value for the {display_name(intent.device_kind)}?")
    devices, note = _grounder(draft).devices(intent.device_kind, intent.rooms, intent.all_devices)
    for device_id in devices:
        _refuse_forbidden_state(draft.scene.get(device_id), intent.device_state)
    if note:
        draft.notes.append(note[0].upper() + note[1:] + ".")
    robot = _robot(draft, intent, ("set_device",), ("manipulator",), "", "control devices")
    targets = {device: _device_state(draft, device, intent.device_state) for device in devices}
    for device, state in targets.items():
        step = _step(robot, "set_device", {"device": device, "state": state}, {f"{device}.state": state},
                     f"set the {display_name(device)} to {state}")
        if not draft.was_done(step):
            draft.add(step)
    draft.phrases.append(f"set {', '.join(devices)} to {', '.join(sorted(set(targets.values())))}")


# What "I'm home" means for the home's comfort devices (lights are handled per room above).
_ARRIVAL_STATES = {"thermostat": "22", "air_purifier": "on"}


def _plan_arrive_home(draft: _Draft, intent: Intent) -> None:
    scene = draft.scene
    lights = [d.id for d in scene.devices if d.kind == "light" and d.room in ("entrance", "living_room")]
    switcher = next((r.id for r in scene.robots if "set_device" in r.capabilities), "")
    if switcher:
        for light in lights:
            step = _step(switcher, "set_device", {"device": light, "state": "on"}, {f"{light}.state": "on"},
                         f"turn on the {display_name(light)}")
            if not draft.was_done(step) and "on" in getattr(scene.get(light), "allowed_states", ()):
                draft.add(step)
        for device in scene.devices:
            state = _ARRIVAL_STATES.get(device.kind)
            if state is None or not device.accepts(state):
                continue
            step = _step(switcher, "set_device", {"device": device.id, "state": state}, {f"{device.id}.state": state},
                         f"set the {display_name(device.id)} to {state}")
            if not draft.was_done(step):
                draft.add(step)
    luggage = [o for o in scene.objects if o.cls == "luggage" and not o.held_by and o.room != "entrance"
               and (o.on == "car" or o.room == "driveway")]
    carrier = next((r for r in scene.robots if {"navigate_to", "carry"} <= set(r.capabilities)), None)
    if luggage and carrier is not None and "entrance" in scene:
        for bag in luggage:
            _plan_carry_object(draft, Intent(Action.CARRY, intent.clause, robot=carrier.id), bag, "entrance")
    greeter = next((r.id for r in scene.robots if {"navigate_to", "say"} <= set(r.capabilities)
                    and r.kind == "manipulator"), "") or next(
        (r.id for r in scene.robots if {"navigate_to", "say"} <= set(r.capabilities)), "")
    if greeter and "entrance" in scene:
        text = _WELCOME.get(draft.language, _WELCOME["en"])
        say = _step(greeter, "say", {"text": text}, {}, "welcome the person home")
        if not draft.was_done(say):
            draft.add(_navigate(greeter, "entrance", "entrance"))
            draft.add(say)
    if not draft.steps:
        raise PlanRejected(RejectCode.NO_CAPABLE_ROBOT, "no robot here can welcome you home")
    draft.phrases.append("welcome home: lights on, thermostat 22 °C, air purifier on"
                         + (", luggage carried in from the car" if luggage else "")
                         + ", greeting at the entrance")


def _plan_dock(draft: _Draft, intent: Intent) -> None:
    robot = _robot(draft, intent, ("dock",), ("manipulator", "dog", "vacuum"), "", "dock")
    draft.add(_step(robot, "dock", {}, {f"{robot}.docked": "true"}, f"{robot} returns to its dock"))
    draft.phrases.append(f"{robot} docks")


def _plan_say(draft: _Draft, intent: Intent) -> None:
    if not intent.text:
        raise PlanRejected(RejectCode.NOT_UNDERSTOOD, "what should I say?")
    robot = _robot(draft, intent, ("say",), ("manipulator", "dog"), "", "speak")
    step = _step(robot, "say", {"text": intent.text}, {}, f"say {intent.text!r}")
    if not draft.was_done(step):
        draft.add(step)
    draft.phrases.append(f"{robot} says {intent.text!r}")


def _plan_wait(draft: _Draft, intent: Intent) -> None:
    if intent.seconds is None:
        raise PlanRejected(RejectCode.INVALID_ARGUMENT, "how long should I wait? (e.g. 'wait 10 seconds')")
    robot = _robot(draft, intent, ("wait",), ("manipulator", "dog", "vacuum"), "", "wait")
    step = _step(robot, "wait", {"seconds": float(intent.seconds)}, {}, f"wait {intent.seconds:g} s")
    if not draft.was_done(step):
        draft.add(step)
    draft.phrases.append(f"{robot} waits {intent.seconds:g} s")


def _plan_unsupported(draft: _Draft, intent: Intent) -> None:
    if not intent.verb:
        raise PlanRejected(
            RejectCode.NOT_UNDERSTOOD,
            f"I did not understand what to do: {intent.clause!r}. I can: {'; '.join(SUPPORTED_ACTIONS)}",
            SUPPORTED_ACTIONS,
        )
    raise PlanRejected(
        RejectCode.UNSUPPORTED_ACTION,
        f"I cannot {intent.verb!r}: none of my skills does that. I can: {'; '.join(SUPPORTED_ACTIONS)}",
        SUPPORTED_ACTIONS,
    )


_PLANNERS = {
    Action.FETCH: _plan_fetch,
    Action.PICK: _plan_pick,
    Action.CARRY: _plan_carry,
    Action.GO_TO: _plan_go_to,
    Action.CLEAN: _plan_clean,
    Action.DEVICE: _plan_device,
    Action.ARRIVE_HOME: _plan_arrive_home,
    Action.DOCK: _plan_dock,
    Action.SAY: _plan_say,
    Action.WAIT: _plan_wait,
    Action.UNSUPPORTED: _plan_unsupported,
}
