"""Hypothesis strategies for arbitrary protobuf messages of the wire contract, built from the descriptors.

Shared by the fuzz tests of both directions (Edge -> Cloud in test_fuzz_messages.py, Cloud -> Edge in
test_fuzz_cloud_messages.py): NaN and huge numbers, unknown enum values, dangling ids, empty oneofs.
"""

from __future__ import annotations

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from hypothesis import strategies as st

from protos.reflexarc.v1 import plan_pb2, planner_pb2
from sim.home_layout import load_home_layout

__all__ = ["IDS", "message_strategy"]

IDS = sorted(load_home_layout().scene_graph().entity_ids)
_INTS = {
    FieldDescriptor.TYPE_INT32: st.integers(-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_UINT32: st.integers(0, 2**32 - 1),
    FieldDescriptor.TYPE_INT64: st.integers(-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_UINT64: st.integers(0, 2**64 - 1),
}
_STRINGS = st.one_of(st.sampled_from(IDS), st.text(max_size=24), st.sampled_from(["", " ", "*", "on", "locked"]))


def _scalar(field: FieldDescriptor) -> st.SearchStrategy:
    if field.type in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        return st.floats(allow_nan=True, allow_infinity=True, width=64 if field.type == FieldDescriptor.TYPE_DOUBLE
                         else 32)
    if field.type in _INTS:
        return _INTS[field.type]
    if field.type == FieldDescriptor.TYPE_BOOL:
        return st.booleans()
    if field.type == FieldDescriptor.TYPE_ENUM:
        return st.sampled_from([v.number for v in field.enum_type.values]) | st.integers(-3, 50)
    if field.type == FieldDescriptor.TYPE_BYTES:
        return st.binary(max_size=16)
    return _STRINGS


def _field_value(field: FieldDescriptor, depth: int) -> st.SearchStrategy:
    if field.message_type is not None and field.message_type.GetOptions().map_entry:
        key = field.message_type.fields_by_name["key"]
        value = field.message_type.fields_by_name["value"]
        return st.dictionaries(_scalar(key), _field_value(value, depth), max_size=3)
    single = message_strategy(field.message_type, depth + 1) if field.message_type is not None else _scalar(field)
    return st.lists(single, max_size=3) if field.is_repeated else single


@st.composite
def _message(draw, descriptor: Descriptor, depth: int):
    message = _CLASSES[descriptor.full_name]()
    oneof_members = {f.name for o in descriptor.oneofs if not o.name.startswith("_") for f in o.fields}
    chosen_oneof = {o.name: draw(st.sampled_from([None, *[f.name for f in o.fields]]))
                    for o in descriptor.oneofs if not o.name.startswith("_")}
    for field in descriptor.fields:
        if field.name in oneof_members and field.name not in chosen_oneof.values():
            continue
        if field.message_type is not None and not field.message_type.GetOptions().map_entry and depth >= 4:
            continue
        if field.name not in oneof_members and not draw(st.booleans()):
            continue
        value = draw(_field_value(field, depth))
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            target = getattr(message, field.name)
            if field.message_type.fields_by_name["value"].message_type is not None:
                for key, item in value.items():
                    target[key].CopyFrom(item)
            else:
                target.update(value)
        elif field.is_repeated:
            if field.message_type is not None:
                for item in value:
                    getattr(message, field.name).add().CopyFrom(item)
            else:
                getattr(message, field.name).extend(value)
        elif field.message_type is not None:
            getattr(message, field.name).CopyFrom(value)
        else:
            setattr(message, field.name, value)
    return message


def message_strategy(descriptor: Descriptor, depth: int = 0) -> st.SearchStrategy:
    """Arbitrary messages of ``descriptor``'s type, nested up to a few levels."""
    return _message(descriptor, depth)


def _message_classes() -> dict[str, type]:
    from google.protobuf import message_factory

    classes = {}
    for module in (planner_pb2, plan_pb2):
        for descriptor in module.DESCRIPTOR.message_types_by_name.values():
            stack = [descriptor]
            while stack:
                d = stack.pop()
                classes[d.full_name] = message_factory.GetMessageClass(d)
                stack.extend(d.nested_types)
    from protos.reflexarc.v1 import scene_pb2

    for descriptor in scene_pb2.DESCRIPTOR.message_types_by_name.values():
        classes[descriptor.full_name] = message_factory.GetMessageClass(descriptor)
    return classes


_CLASSES = _message_classes()
