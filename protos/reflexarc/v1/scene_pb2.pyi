from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Pose2D(_message.Message):
    __slots__ = ("x", "y", "yaw")
    X_FIELD_NUMBER: _ClassVar[int]
    Y_FIELD_NUMBER: _ClassVar[int]
    YAW_FIELD_NUMBER: _ClassVar[int]
    x: float
    y: float
    yaw: float
    def __init__(self, x: _Optional[float] = ..., y: _Optional[float] = ..., yaw: _Optional[float] = ...) -> None: ...

class Point2D(_message.Message):
    __slots__ = ("x", "y")
    X_FIELD_NUMBER: _ClassVar[int]
    Y_FIELD_NUMBER: _ClassVar[int]
    x: float
    y: float
    def __init__(self, x: _Optional[float] = ..., y: _Optional[float] = ...) -> None: ...

class Vec3(_message.Message):
    __slots__ = ("x", "y", "z")
    X_FIELD_NUMBER: _ClassVar[int]
    Y_FIELD_NUMBER: _ClassVar[int]
    Z_FIELD_NUMBER: _ClassVar[int]
    x: float
    y: float
    z: float
    def __init__(self, x: _Optional[float] = ..., y: _Optional[float] = ..., z: _Optional[float] = ...) -> None: ...

class Room(_message.Message):
    __slots__ = ("id", "name", "polygon", "aliases")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    POLYGON_FIELD_NUMBER: _ClassVar[int]
    ALIASES_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    polygon: _containers.RepeatedCompositeFieldContainer[Point2D]
    aliases: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., polygon: _Optional[_Iterable[_Union[Point2D, _Mapping]]] = ..., aliases: _Optional[_Iterable[str]] = ...) -> None: ...

class Furniture(_message.Message):
    __slots__ = ("id", "cls", "room", "pose", "size", "colour", "top_height")
    ID_FIELD_NUMBER: _ClassVar[int]
    CLS_FIELD_NUMBER: _ClassVar[int]
    ROOM_FIELD_NUMBER: _ClassVar[int]
    POSE_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    COLOUR_FIELD_NUMBER: _ClassVar[int]
    TOP_HEIGHT_FIELD_NUMBER: _ClassVar[int]
    id: str
    cls: str
    room: str
    pose: Pose2D
    size: Vec3
    colour: str
    top_height: float
    def __init__(self, id: _Optional[str] = ..., cls: _Optional[str] = ..., room: _Optional[str] = ..., pose: _Optional[_Union[Pose2D, _Mapping]] = ..., size: _Optional[_Union[Vec3, _Mapping]] = ..., colour: _Optional[str] = ..., top_height: _Optional[float] = ...) -> None: ...

class SceneObject(_message.Message):
    __slots__ = ("id", "cls", "colour", "position", "room", "on", "graspable", "held_by")
    ID_FIELD_NUMBER: _ClassVar[int]
    CLS_FIELD_NUMBER: _ClassVar[int]
    COLOUR_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    ROOM_FIELD_NUMBER: _ClassVar[int]
    ON_FIELD_NUMBER: _ClassVar[int]
    GRASPABLE_FIELD_NUMBER: _ClassVar[int]
    HELD_BY_FIELD_NUMBER: _ClassVar[int]
    id: str
    cls: str
    colour: str
    position: Vec3
    room: str
    on: str
    graspable: bool
    held_by: str
    def __init__(self, id: _Optional[str] = ..., cls: _Optional[str] = ..., colour: _Optional[str] = ..., position: _Optional[_Union[Vec3, _Mapping]] = ..., room: _Optional[str] = ..., on: _Optional[str] = ..., graspable: _Optional[bool] = ..., held_by: _Optional[str] = ...) -> None: ...

class ValueRange(_message.Message):
    __slots__ = ("min", "max")
    MIN_FIELD_NUMBER: _ClassVar[int]
    MAX_FIELD_NUMBER: _ClassVar[int]
    min: float
    max: float
    def __init__(self, min: _Optional[float] = ..., max: _Optional[float] = ...) -> None: ...

class Device(_message.Message):
    __slots__ = ("id", "kind", "room", "state", "allowed_states", "value_range", "position")
    ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    ROOM_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_STATES_FIELD_NUMBER: _ClassVar[int]
    VALUE_RANGE_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    id: str
    kind: str
    room: str
    state: str
    allowed_states: _containers.RepeatedScalarFieldContainer[str]
    value_range: ValueRange
    position: Vec3
    def __init__(self, id: _Optional[str] = ..., kind: _Optional[str] = ..., room: _Optional[str] = ..., state: _Optional[str] = ..., allowed_states: _Optional[_Iterable[str]] = ..., value_range: _Optional[_Union[ValueRange, _Mapping]] = ..., position: _Optional[_Union[Vec3, _Mapping]] = ...) -> None: ...

class Robot(_message.Message):
    __slots__ = ("id", "kind", "capabilities", "pose", "room", "dock")
    ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    POSE_FIELD_NUMBER: _ClassVar[int]
    ROOM_FIELD_NUMBER: _ClassVar[int]
    DOCK_FIELD_NUMBER: _ClassVar[int]
    id: str
    kind: str
    capabilities: _containers.RepeatedScalarFieldContainer[str]
    pose: Pose2D
    room: str
    dock: str
    def __init__(self, id: _Optional[str] = ..., kind: _Optional[str] = ..., capabilities: _Optional[_Iterable[str]] = ..., pose: _Optional[_Union[Pose2D, _Mapping]] = ..., room: _Optional[str] = ..., dock: _Optional[str] = ...) -> None: ...

class Person(_message.Message):
    __slots__ = ("id", "name", "pose", "room")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    POSE_FIELD_NUMBER: _ClassVar[int]
    ROOM_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    pose: Pose2D
    room: str
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., pose: _Optional[_Union[Pose2D, _Mapping]] = ..., room: _Optional[str] = ...) -> None: ...

class SceneGraph(_message.Message):
    __slots__ = ("version", "rooms", "furniture", "objects", "devices", "robots", "people")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    ROOMS_FIELD_NUMBER: _ClassVar[int]
    FURNITURE_FIELD_NUMBER: _ClassVar[int]
    OBJECTS_FIELD_NUMBER: _ClassVar[int]
    DEVICES_FIELD_NUMBER: _ClassVar[int]
    ROBOTS_FIELD_NUMBER: _ClassVar[int]
    PEOPLE_FIELD_NUMBER: _ClassVar[int]
    version: str
    rooms: _containers.RepeatedCompositeFieldContainer[Room]
    furniture: _containers.RepeatedCompositeFieldContainer[Furniture]
    objects: _containers.RepeatedCompositeFieldContainer[SceneObject]
    devices: _containers.RepeatedCompositeFieldContainer[Device]
    robots: _containers.RepeatedCompositeFieldContainer[Robot]
    people: _containers.RepeatedCompositeFieldContainer[Person]
    def __init__(self, version: _Optional[str] = ..., rooms: _Optional[_Iterable[_Union[Room, _Mapping]]] = ..., furniture: _Optional[_Iterable[_Union[Furniture, _Mapping]]] = ..., objects: _Optional[_Iterable[_Union[SceneObject, _Mapping]]] = ..., devices: _Optional[_Iterable[_Union[Device, _Mapping]]] = ..., robots: _Optional[_Iterable[_Union[Robot, _Mapping]]] = ..., people: _Optional[_Iterable[_Union[Person, _Mapping]]] = ...) -> None: ...
