from protos.reflexarc.v1 import scene_pb2 as _scene_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CommandSource(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    COMMAND_SOURCE_UNSPECIFIED: _ClassVar[CommandSource]
    COMMAND_SOURCE_TEXT: _ClassVar[CommandSource]
    COMMAND_SOURCE_VOICE: _ClassVar[CommandSource]
    COMMAND_SOURCE_EVENT: _ClassVar[CommandSource]

class RejectCode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REJECT_CODE_UNSPECIFIED: _ClassVar[RejectCode]
    REJECT_CODE_NOT_UNDERSTOOD: _ClassVar[RejectCode]
    REJECT_CODE_UNKNOWN_OBJECT: _ClassVar[RejectCode]
    REJECT_CODE_UNKNOWN_ENTITY: _ClassVar[RejectCode]
    REJECT_CODE_UNSUPPORTED_ACTION: _ClassVar[RejectCode]
    REJECT_CODE_NO_CAPABLE_ROBOT: _ClassVar[RejectCode]
    REJECT_CODE_PRECONDITION_FAILED: _ClassVar[RejectCode]
    REJECT_CODE_FORBIDDEN_STATE: _ClassVar[RejectCode]
    REJECT_CODE_OUT_OF_RANGE: _ClassVar[RejectCode]
    REJECT_CODE_INVALID_ARGUMENT: _ClassVar[RejectCode]
    REJECT_CODE_OBJECT_NOT_FOUND: _ClassVar[RejectCode]
    REJECT_CODE_REPLAN_LIMIT: _ClassVar[RejectCode]
    REJECT_CODE_UNKNOWN_PLAN: _ClassVar[RejectCode]
    REJECT_CODE_BACKEND_ERROR: _ClassVar[RejectCode]
COMMAND_SOURCE_UNSPECIFIED: CommandSource
COMMAND_SOURCE_TEXT: CommandSource
COMMAND_SOURCE_VOICE: CommandSource
COMMAND_SOURCE_EVENT: CommandSource
REJECT_CODE_UNSPECIFIED: RejectCode
REJECT_CODE_NOT_UNDERSTOOD: RejectCode
REJECT_CODE_UNKNOWN_OBJECT: RejectCode
REJECT_CODE_UNKNOWN_ENTITY: RejectCode
REJECT_CODE_UNSUPPORTED_ACTION: RejectCode
REJECT_CODE_NO_CAPABLE_ROBOT: RejectCode
REJECT_CODE_PRECONDITION_FAILED: RejectCode
REJECT_CODE_FORBIDDEN_STATE: RejectCode
REJECT_CODE_OUT_OF_RANGE: RejectCode
REJECT_CODE_INVALID_ARGUMENT: RejectCode
REJECT_CODE_OBJECT_NOT_FOUND: RejectCode
REJECT_CODE_REPLAN_LIMIT: RejectCode
REJECT_CODE_UNKNOWN_PLAN: RejectCode
REJECT_CODE_BACKEND_ERROR: RejectCode

class Command(_message.Message):
    __slots__ = ("text", "language", "source", "asr_confidence", "command_id", "scene")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    ASR_CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    COMMAND_ID_FIELD_NUMBER: _ClassVar[int]
    SCENE_FIELD_NUMBER: _ClassVar[int]
    text: str
    language: str
    source: CommandSource
    asr_confidence: float
    command_id: str
    scene: _scene_pb2.SceneGraph
    def __init__(self, text: _Optional[str] = ..., language: _Optional[str] = ..., source: _Optional[_Union[CommandSource, str]] = ..., asr_confidence: _Optional[float] = ..., command_id: _Optional[str] = ..., scene: _Optional[_Union[_scene_pb2.SceneGraph, _Mapping]] = ...) -> None: ...

class ArgValue(_message.Message):
    __slots__ = ("entity", "text", "number")
    ENTITY_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    entity: str
    text: str
    number: float
    def __init__(self, entity: _Optional[str] = ..., text: _Optional[str] = ..., number: _Optional[float] = ...) -> None: ...

class Step(_message.Message):
    __slots__ = ("plan_id", "revision", "index", "robot", "skill", "args", "expect", "on_failure", "summary")
    class ArgsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: ArgValue
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[ArgValue, _Mapping]] = ...) -> None: ...
    class ExpectEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    PLAN_ID_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    ROBOT_FIELD_NUMBER: _ClassVar[int]
    SKILL_FIELD_NUMBER: _ClassVar[int]
    ARGS_FIELD_NUMBER: _ClassVar[int]
    EXPECT_FIELD_NUMBER: _ClassVar[int]
    ON_FAILURE_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    plan_id: str
    revision: int
    index: int
    robot: str
    skill: str
    args: _containers.MessageMap[str, ArgValue]
    expect: _containers.ScalarMap[str, str]
    on_failure: _containers.RepeatedCompositeFieldContainer[Step]
    summary: str
    def __init__(self, plan_id: _Optional[str] = ..., revision: _Optional[int] = ..., index: _Optional[int] = ..., robot: _Optional[str] = ..., skill: _Optional[str] = ..., args: _Optional[_Mapping[str, ArgValue]] = ..., expect: _Optional[_Mapping[str, str]] = ..., on_failure: _Optional[_Iterable[_Union[Step, _Mapping]]] = ..., summary: _Optional[str] = ...) -> None: ...

class PlanCost(_message.Message):
    __slots__ = ("tokens_in", "tokens_out", "usd", "latency_ms")
    TOKENS_IN_FIELD_NUMBER: _ClassVar[int]
    TOKENS_OUT_FIELD_NUMBER: _ClassVar[int]
    USD_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    tokens_in: int
    tokens_out: int
    usd: float
    latency_ms: float
    def __init__(self, tokens_in: _Optional[int] = ..., tokens_out: _Optional[int] = ..., usd: _Optional[float] = ..., latency_ms: _Optional[float] = ...) -> None: ...

class PlanHeader(_message.Message):
    __slots__ = ("plan_id", "revision", "command", "language", "summary", "total_steps", "backend", "cost", "command_id", "scene_hash", "plan_digest", "resumed", "cancel", "from_index")
    PLAN_ID_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    COMMAND_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    TOTAL_STEPS_FIELD_NUMBER: _ClassVar[int]
    BACKEND_FIELD_NUMBER: _ClassVar[int]
    COST_FIELD_NUMBER: _ClassVar[int]
    COMMAND_ID_FIELD_NUMBER: _ClassVar[int]
    SCENE_HASH_FIELD_NUMBER: _ClassVar[int]
    PLAN_DIGEST_FIELD_NUMBER: _ClassVar[int]
    RESUMED_FIELD_NUMBER: _ClassVar[int]
    CANCEL_FIELD_NUMBER: _ClassVar[int]
    FROM_INDEX_FIELD_NUMBER: _ClassVar[int]
    plan_id: str
    revision: int
    command: str
    language: str
    summary: str
    total_steps: int
    backend: str
    cost: PlanCost
    command_id: str
    scene_hash: str
    plan_digest: str
    resumed: bool
    cancel: bool
    from_index: int
    def __init__(self, plan_id: _Optional[str] = ..., revision: _Optional[int] = ..., command: _Optional[str] = ..., language: _Optional[str] = ..., summary: _Optional[str] = ..., total_steps: _Optional[int] = ..., backend: _Optional[str] = ..., cost: _Optional[_Union[PlanCost, _Mapping]] = ..., command_id: _Optional[str] = ..., scene_hash: _Optional[str] = ..., plan_digest: _Optional[str] = ..., resumed: _Optional[bool] = ..., cancel: _Optional[bool] = ..., from_index: _Optional[int] = ...) -> None: ...

class PlanTrailer(_message.Message):
    __slots__ = ("plan_id", "revision", "total_steps", "plan_digest", "cost")
    PLAN_ID_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    TOTAL_STEPS_FIELD_NUMBER: _ClassVar[int]
    PLAN_DIGEST_FIELD_NUMBER: _ClassVar[int]
    COST_FIELD_NUMBER: _ClassVar[int]
    plan_id: str
    revision: int
    total_steps: int
    plan_digest: str
    cost: PlanCost
    def __init__(self, plan_id: _Optional[str] = ..., revision: _Optional[int] = ..., total_steps: _Optional[int] = ..., plan_digest: _Optional[str] = ..., cost: _Optional[_Union[PlanCost, _Mapping]] = ...) -> None: ...

class Revise(_message.Message):
    __slots__ = ("plan_id", "revision", "from_index", "reason", "total_steps", "summary", "scene", "facts", "plan_digest", "scene_hash")
    PLAN_ID_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    FROM_INDEX_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    TOTAL_STEPS_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    SCENE_FIELD_NUMBER: _ClassVar[int]
    FACTS_FIELD_NUMBER: _ClassVar[int]
    PLAN_DIGEST_FIELD_NUMBER: _ClassVar[int]
    SCENE_HASH_FIELD_NUMBER: _ClassVar[int]
    plan_id: str
    revision: int
    from_index: int
    reason: str
    total_steps: int
    summary: str
    scene: _scene_pb2.SceneGraph
    facts: _containers.RepeatedCompositeFieldContainer[Fact]
    plan_digest: str
    scene_hash: str
    def __init__(self, plan_id: _Optional[str] = ..., revision: _Optional[int] = ..., from_index: _Optional[int] = ..., reason: _Optional[str] = ..., total_steps: _Optional[int] = ..., summary: _Optional[str] = ..., scene: _Optional[_Union[_scene_pb2.SceneGraph, _Mapping]] = ..., facts: _Optional[_Iterable[_Union[Fact, _Mapping]]] = ..., plan_digest: _Optional[str] = ..., scene_hash: _Optional[str] = ...) -> None: ...

class Cancel(_message.Message):
    __slots__ = ("plan_id", "reason")
    PLAN_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    plan_id: str
    reason: str
    def __init__(self, plan_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class Reject(_message.Message):
    __slots__ = ("code", "message", "candidates", "command_id", "plan_id", "step_index")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    CANDIDATES_FIELD_NUMBER: _ClassVar[int]
    COMMAND_ID_FIELD_NUMBER: _ClassVar[int]
    PLAN_ID_FIELD_NUMBER: _ClassVar[int]
    STEP_INDEX_FIELD_NUMBER: _ClassVar[int]
    code: RejectCode
    message: str
    candidates: _containers.RepeatedScalarFieldContainer[str]
    command_id: str
    plan_id: str
    step_index: int
    def __init__(self, code: _Optional[_Union[RejectCode, str]] = ..., message: _Optional[str] = ..., candidates: _Optional[_Iterable[str]] = ..., command_id: _Optional[str] = ..., plan_id: _Optional[str] = ..., step_index: _Optional[int] = ...) -> None: ...

class Say(_message.Message):
    __slots__ = ("text", "language", "robot")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    ROBOT_FIELD_NUMBER: _ClassVar[int]
    text: str
    language: str
    robot: str
    def __init__(self, text: _Optional[str] = ..., language: _Optional[str] = ..., robot: _Optional[str] = ...) -> None: ...

class Fact(_message.Message):
    __slots__ = ("subject", "predicate", "object")
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    PREDICATE_FIELD_NUMBER: _ClassVar[int]
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    subject: str
    predicate: str
    object: str
    def __init__(self, subject: _Optional[str] = ..., predicate: _Optional[str] = ..., object: _Optional[str] = ...) -> None: ...
