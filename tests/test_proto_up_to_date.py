"""The committed generated wire code is exactly what protoc makes from ``protos/`` today."""

from __future__ import annotations

from reflexarc import protogen


def test_generated_protobuf_code_matches_the_proto_sources():
    assert protogen.stale_files() == []


def test_the_contract_defines_the_planner_service_with_plan_and_session():
    from protos.reflexarc.v1 import planner_pb2

    service = planner_pb2.DESCRIPTOR.services_by_name["Planner"]
    methods = {m.name: (m.client_streaming, m.server_streaming) for m in service.methods}
    assert methods == {"Plan": (False, True), "Session": (True, True)}
