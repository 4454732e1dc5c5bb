from protos.reflexarc.v1 import plan_pb2 as _plan_pb2
from protos.reflexarc.v1 import scene_pb2 as _scene_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class StepStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    STEP_STATUS_UNSPECIFIED: _ClassVar[StepStatus]
    STEP_STATUS_STARTED: _ClassVar[StepStatus]
    STEP_STATUS_SUCCEEDED: _ClassVar[StepStatus]
    STEP_STATUS_FAILED: _ClassVar[StepStatus]
    STEP_STATUS_RECOVERED: _ClassVar[StepStatus]
    STEP_STATUS_SKIPPED: _ClassVar[StepStatus]

class AckKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ACK_KIND_UNSPECIFIED: _ClassVar[AckKind]
    ACK_KIND_HELLO: _ClassVar[AckKind]
    ACK_KIND_HEARTBEAT: _ClassVar[AckKind]
    ACK_KIND_PLAN_COMPLETE: _ClassVar[AckKind]
STEP_STATUS_UNSPECIFIED: StepStatus
STEP_STATUS_STARTED: StepStatus
STEP_STATUS_SUCCEEDED: StepStatus
STEP_STATUS_FAILED: StepStatus
STEP_STATUS_RECOVERED: StepStatus
STEP_STATUS_SKIPPED: StepStatus
ACK_KIND_UNSPECIFIED: AckKind
ACK_KIND_HELLO: AckKind
ACK_KIND_HEARTBEAT: AckKind
ACK_KIND_PLAN_COMPLETE: AckKind

class PlanRequest(_message.Message):
    __slots__ = ("command", "scene", "facts")
    COMMAND_FIELD_NUMBER: _ClassVar[int]
    SCENE_FIELD_NUMBER: _ClassVar[int]
    FACTS_FIELD_NUMBER: _ClassVar[int]
    command: _plan_pb2.Command
    scene: _scene_pb2.SceneGraph
    facts: _containers.RepeatedCompositeFieldContainer[_plan_pb2.Fact]
    def __init__(self, command: _Optional[_Union[_plan_pb2.Command, _Mapping]] = ..., scene: _Optional[_Union[_scene_pb2.SceneGraph, _Mapping]] = ..., facts: _Optional[_Iterable[_Union[_plan_pb2.Fact, _Mapping]]] = ...) -> None: ...

class PlanEvent(_message.Message):
    __slots__ = ("header", "step", "reject")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    REJECT_FIELD_NUMBER: _ClassVar[int]
    header: _plan_pb2.PlanHeader
    step: _plan_pb2.Step
    reject: _plan_pb2.Reject
    def __init__(self, header: _Optional[_Union[_plan_pb2.PlanHeader, _Mapping]] = ..., step: _Optional[_Union[_plan_pb2.Step, _Mapping]] = ..., reject: _Optional[_Union[_plan_pb2.Reject, _Mapping]] = ...) -> None: ...

class EdgeMessage(_message.Message):
    __slots__ = ("hello", "command", "progress", "heartbeat", "resume")
    HELLO_FIELD_NUMBER: _ClassVar[int]
    COMMAND_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    RESUME_FIELD_NUMBER: _ClassVar[int]
    hello: Hello
    command: _plan_pb2.Command
    progress: Progress
    heartbeat: Heartbeat
    resume: Resume
    def __init__(self, hello: _Optional[_Union[Hello, _Mapping]] = ..., command: _Optional[_Union[_plan_pb2.Command, _Mapping]] = ..., progress: _Optional[_Union[Progress, _Mapping]] = ..., heartbeat: _Optional[_Union[Heartbeat, _Mapping]] = ..., resume: _Optional[_Union[Resume, _Mapping]] = ...) -> None: ...

class Hello(_message.Message):
    __slots__ = ("robot_id", "kind", "capabilities", "scene", "edge_version", "lookahead")
    ROBOT_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    SCENE_FIELD_NUMBER: _ClassVar[int]
    EDGE_VERSION_FIELD_NUMBER: _ClassVar[int]
    LOOKAHEAD_FIELD_NUMBER: _ClassVar[int]
    robot_id: str
    kind: str
    capabilities: _containers.RepeatedScalarFieldContainer[str]
    scene: _scene_pb2.SceneGraph
    edge_version: str
    lookahead: int
    def __init__(self, robot_id: _Optional[str] = ..., kind: _Optional[str] = ..., capabilities: _Optional[_Iterable[str]] = ..., scene: _Optional[_Union[_scene_pb2.SceneGraph, _Mapping]] = ..., edge_version: _Optional[str] = ..., lookahead: _Optional[int] = ...) -> None: ...

class Progress(_message.Message):
    __slots__ = ("plan_id", "revision", "index", "status", "robot", "observation", "facts", "observed", "scene")
    class ObservedEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    PLAN_ID_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ROBOT_FIELD_NUMBER: _ClassVar[int]
    OBSERVATION_FIELD_NUMBER: _ClassVar[int]
    FACTS_FIELD_NUMBER: _ClassVar[int]
    OBSERVED_FIELD_NUMBER: _ClassVar[int]
    SCENE_FIELD_NUMBER: _ClassVar[int]
    plan_id: str
    revision: int
    index: int
    status: StepStatus
    robot: str
    observation: str
    facts: _containers.RepeatedCompositeFieldContainer[_plan_pb2.Fact]
    observed: _containers.ScalarMap[str, str]
    scene: _scene_pb2.SceneGraph
    def __init__(self, plan_id: _Optional[str] = ..., revision: _Optional[int] = ..., index: _Optional[int] = ..., status: _Optional[_Union[StepStatus, str]] = ..., robot: _Optional[str] = ..., observation: _Optional[str] = ..., facts: _Optional[_Iterable[_Union[_plan_pb2.Fact, _Mapping]]] = ..., observed: _Optional[_Mapping[str, str]] = ..., scene: _Optional[_Union[_scene_pb2.SceneGraph, _Mapping]] = ...) -> None: ...

class Heartbeat(_message.Message):
    __slots__ = ("seq", "unix_ms")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    seq: int
    unix_ms: int
    def __init__(self, seq: _Optional[int] = ..., unix_ms: _Optional[int] = ...) -> None: ...

class Resume(_message.Message):
    __slots__ = ("plan_id", "revision", "cursor", "command", "scene", "facts", "from_index", "plan_digest")
    PLAN_ID_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    COMMAND_FIELD_NUMBER: _ClassVar[int]
    SCENE_FIELD_NUMBER: _ClassVar[int]
    FACTS_FIELD_NUMBER: _ClassVar[int]
    FROM_INDEX_FIELD_NUMBER: _ClassVar[int]
    PLAN_DIGEST_FIELD_NUMBER: _ClassVar[int]
    plan_id: str
    revision: int
    cursor: int
    command: _plan_pb2.Command
    scene: _scene_pb2.SceneGraph
    facts: _containers.RepeatedCompositeFieldContainer[_plan_pb2.Fact]
    from_index: int
    plan_digest: str
    def __init__(self, plan_id: _Optional[str] = ..., revision: _Optional[int] = ..., cursor: _Optional[int] = ..., command: _Optional[_Union[_plan_pb2.Command, _Mapping]] = ..., scene: _Optional[_Union[_scene_pb2.SceneGraph, _Mapping]] = ..., facts: _Optional[_Iterable[_Union[_plan_pb2.Fact, _Mapping]]] = ..., from_index: _Optional[int] = ..., plan_digest: _Optional[str] = ...) -> None: ...

class CloudMessage(_message.Message):
    __slots__ = ("header", "step", "revise", "cancel", "reject", "say", "ack", "trailer")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    REVISE_FIELD_NUMBER: _ClassVar[int]
    CANCEL_FIELD_NUMBER: _ClassVar[int]
    REJECT_FIELD_NUMBER: _ClassVar[int]
    SAY_FIELD_NUMBER: _ClassVar[int]
    ACK_FIELD_NUMBER: _ClassVar[int]
    TRAILER_FIELD_NUMBER: _ClassVar[int]
    header: _plan_pb2.PlanHeader
    step: _plan_pb2.Step
    revise: _plan_pb2.Revise
    cancel: _plan_pb2.Cancel
    reject: _plan_pb2.Reject
    say: _plan_pb2.Say
    ack: Ack
    trailer: _plan_pb2.PlanTrailer
    def __init__(self, header: _Optional[_Union[_plan_pb2.PlanHeader, _Mapping]] = ..., step: _Optional[_Union[_plan_pb2.Step, _Mapping]] = ..., revise: _Optional[_Union[_plan_pb2.Revise, _Mapping]] = ..., cancel: _Optional[_Union[_plan_pb2.Cancel, _Mapping]] = ..., reject: _Optional[_Union[_plan_pb2.Reject, _Mapping]] = ..., say: _Optional[_Union[_plan_pb2.Say, _Mapping]] = ..., ack: _Optional[_Union[Ack, _Mapping]] = ..., trailer: _Optional[_Union[_plan_pb2.PlanTrailer, _Mapping]] = ...) -> None: ...

class Ack(_message.Message):
    __slots__ = ("kind", "seq", "plan_id", "server_id", "unix_ms", "detail")
    KIND_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    PLAN_ID_FIELD_NUMBER: _ClassVar[int]
    SERVER_ID_FIELD_NUMBER: _ClassVar[int]
    UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    kind: AckKind
    seq: int
    plan_id: str
    server_id: str
    unix_ms: int
    detail: str
    def __init__(self, kind: _Optional[_Union[AckKind, str]] = ..., seq: _Optional[int] = ..., plan_id: _Optional[str] = ..., server_id: _Optional[str] = ..., unix_ms: _Optional[int] = ..., detail: _Optional[str] = ...) -> None: ...
