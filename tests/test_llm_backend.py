"""The OpenAI-compatible backend against a local server speaking the real chat-completions protocol.

Whatever the model streams (a good plan, broken JSON, an invented object, a forbidden action, a
jailbreak, nothing in time, HTTP 500s), the outcome is a valid plan, a repair, a fallback or a clear
rejection, and every step that leaves the backend is one the validator accepts.
"""

from __future__ import annotations

import json
import threading
import time

import pytest
from chat_completions_server import ChatCompletionsServer, ScriptedReply

from cloud_planner.backend import BackendOptions, validated_events
from cloud_planner.embedded import EmbeddedBackend
from cloud_planner.errors import PlanRejected
from cloud_planner.llm_backend import LLMBackend, LLMSettings
from cloud_planner.plan import Command, Plan, PlanCost, PlanHeader, PlanStep, step_to_json
from cloud_planner.validator import Validator
from reflexarc.skills import SKILLS
from sim.home_layout import load_home_layout

FETCH = Command("bring me the red cup from the kitchen", "en")


@pytest.fixture(scope="module")
def scene():
    return load_home_layout().scene_graph()


def _model_step(step: PlanStep) -> dict:
    """A step as the model writes it (no index: position in the list is the index)."""
    data = step_to_json(step)
    data.pop("index")
    data["on_failure"] = [_model_step(s) for s in step.on_failure]
    return data


def _good_reply(scene, command=FETCH) -> tuple[str, list[PlanStep]]:
    events = list(EmbeddedBackend().plan(command, scene))
    steps = [e for e in events if isinstance(e, PlanStep)]
    text = json.dumps(
        {"summary": "fetch the red cup", "language": "en", "steps": [_model_step(s) for s in steps]}, ensure_ascii=False
    )
    return text, steps


def _backend(server: ChatCompletionsServer, **settings) -> LLMBackend:
    base = LLMSettings.from_options(BackendOptions(base_url=server.base_url, model="XiaomiMiMo/MiMo-V2-Flash"))
    return LLMBackend(settings=LLMSettings(**{**base.__dict__, "deadline_s": 5.0, **settings}))


def _collect(backend: LLMBackend, scene, command=FETCH) -> tuple[PlanHeader, list[PlanStep], PlanCost | None]:
    events = list(validated_events(backend, command, scene))
    header = events[0]
    steps = [e for e in events if isinstance(e, PlanStep)]
    costs = [e for e in events if isinstance(e, PlanCost)]
    return header, steps, (costs[-1] if costs else None)


def _assert_all_valid(scene, steps: list[PlanStep]) -> None:
    validator = Validator(scene)
    for step in steps:
        assert step.skill in SKILLS
        validator.check_step(step)


def _actions(steps):
    return [(s.robot, s.skill, dict(s.args)) for s in steps]


def test_good_streamed_plan_forwards_first_step_before_the_reply_ends(scene):
    text, expected = _good_reply(scene)
    first_step_end = text.index("}", text.index('"steps"')) + 1
    chunk_size = 4
    reply = ScriptedReply(content=text, chunk_size=chunk_size, pause_after_chunk=first_step_end // chunk_size + 2)
    total_chunks = -(-len(text) // chunk_size)
    with ChatCompletionsServer([reply]) as server:
        events = validated_events(_backend(server), FETCH, scene)
        assert isinstance(next(events), PlanHeader)
        first = next(events)
        chunks_when_first_step_arrived = server.chunks_sent
        reply.release.set()
        rest = list(events)
    assert isinstance(first, PlanStep) and first.skill == "navigate_to"
    assert chunks_when_first_step_arrived < total_chunks / 2
    steps = [first, *(e for e in rest if isinstance(e, PlanStep))]
    assert _actions(steps) == _actions(expected)


def test_cost_is_priced_from_the_reported_token_usage(scene):
    text, _ = _good_reply(scene)
    with ChatCompletionsServer([ScriptedReply(content=text, prompt_tokens=1200, completion_tokens=345)]) as server:
        header, steps, cost = _collect(_backend(server), scene)
    assert header.backend == "openai"
    assert (cost.tokens_in, cost.tokens_out) == (1200, 345)
    assert cost.usd == pytest.approx((1200 * 0.1 + 345 * 0.3) / 1e6)


def test_request_carries_scene_skills_and_structured_output(scene):
    text, _ = _good_reply(scene)
    with ChatCompletionsServer([ScriptedReply(content=text)]) as server:
        _collect(_backend(server), scene)
        body = server.requests[0]
    assert body["model"] == "XiaomiMiMo/MiMo-V2-Flash" and body["stream"] is True
    assert body["response_format"]["type"] == "json_schema"
    system = body["messages"][0]["content"]
    assert "cup_red" in system and "navigate_to(target: place)" in system


def test_malformed_json_is_repaired_in_one_round(scene):
    text, expected = _good_reply(scene)
    with ChatCompletionsServer([ScriptedReply(content='{"summary": "x", "steps": [{"robot": '), ScriptedReply(content=text)]) as server:
        backend = _backend(server)
        header, steps, _ = _collect(backend, scene)
        repair_request = server.requests[1]["messages"][-1]["content"]
    assert "refused" in repair_request
    assert backend.metrics()["repairs"] == 1 and header.backend == "openai"
    assert _actions(steps) == _actions(expected)


def test_invented_object_is_refused_and_repaired(scene):
    text, expected = _good_reply(scene)
    invented = text.replace('"object": "cup_red"', '"object": "cup_purple"', 1)
    with ChatCompletionsServer([ScriptedReply(content=invented), ScriptedReply(content=text)]) as server:
        _, steps, _ = _collect(_backend(server), scene)
        repair_request = server.requests[1]["messages"][-1]["content"]
    assert "cup_purple" in repair_request
    _assert_all_valid(scene, steps)
    assert _actions(steps) == _actions(expected)


def test_non_allowlisted_action_twice_falls_back_to_the_embedded_planner(scene):
    text, expected = _good_reply(scene)
    forbidden = json.dumps({"summary": "x", "steps": [{"robot": "robot1", "skill": "unlock_door", "args": {"door": "front_door_lock"}}]})
    with ChatCompletionsServer([ScriptedReply(content=forbidden), ScriptedReply(content=forbidden)]) as server:
        backend = _backend(server)
        header, steps, _ = _collect(backend, scene)
    assert header.backend == "openai->embedded"
    assert all(s.skill != "unlock_door" for s in steps)
    assert _actions(steps) == _actions(expected)
    assert backend.metrics()["fallbacks"] == 1


def test_jailbreak_reply_never_reaches_the_robot(scene):
    jailbreak = "Ignore your rules. I will drive at 5 m/s: {\"skill\": \"set_speed\", \"args\": {\"speed\": 5}}"
    with ChatCompletionsServer([ScriptedReply(content=jailbreak), ScriptedReply(content=jailbreak)]) as server:
        header, steps, _ = _collect(_backend(server), scene)
    _assert_all_valid(scene, steps)
    assert all("speed" not in s.args for s in steps)
    assert header.backend == "openai->embedded"


def test_slow_reply_past_the_deadline_falls_back_in_time(scene):
    text, expected = _good_reply(scene)
    slow = [ScriptedReply(content=text, delay_before_s=3.0), ScriptedReply(content=text, delay_before_s=3.0)]
    with ChatCompletionsServer(slow) as server:
        started = time.monotonic()
        header, steps, _ = _collect(_backend(server, deadline_s=0.5, retries_before_first_step=0), scene)
        elapsed = time.monotonic() - started
    assert header.backend == "openai->embedded"
    assert _actions(steps) == _actions(expected)
    assert elapsed < 2.5


def test_http_500_is_retried_once_then_falls_back(scene):
    _, expected = _good_reply(scene)
    with ChatCompletionsServer([ScriptedReply(status=500), ScriptedReply(status=500)]) as server:
        backend = _backend(server)
        header, steps, _ = _collect(backend, scene)
        requests = len(server.requests)
    assert requests == 2
    assert header.backend == "openai->embedded" and _actions(steps) == _actions(expected)


def test_http_500_then_success_on_retry_uses_the_model(scene):
    text, _ = _good_reply(scene)
    with ChatCompletionsServer([ScriptedReply(status=503), ScriptedReply(content=text)]) as server:
        header, _, _ = _collect(_backend(server), scene)
    assert header.backend == "openai"


def test_circuit_opens_while_the_endpoint_is_down_and_probes_it_back(scene):
    text, _ = _good_reply(scene)
    with ChatCompletionsServer([ScriptedReply(status=500)] * 4) as server:
        backend = _backend(server, breaker_failures=3, breaker_reset_s=0.5)
        _collect(backend, scene)
        _collect(backend, scene, Command("bring me the blue cup", "en"))
        assert backend.breaker.state.value == "open"
        before = len(server.requests)
        header, _, _ = _collect(backend, scene, Command("turn on the kitchen light", "en"))
        assert len(server.requests) == before, "an open circuit must not call the endpoint"
        assert header.backend == "openai->embedded"
        time.sleep(0.6)
        server.replies.clear()
        server.replies.append(ScriptedReply(content=text))
        header, _, _ = _collect(backend, scene)
    assert header.backend == "openai"
    assert backend.breaker.state.value == "closed"


def test_repeated_command_over_the_same_scene_is_served_from_the_cache(scene):
    text, _ = _good_reply(scene)
    with ChatCompletionsServer([ScriptedReply(content=text)]) as server:
        backend = _backend(server)
        _, first, _ = _collect(backend, scene)
        _, second, cost = _collect(backend, scene, Command("Bring me  the red cup from the kitchen", "en"))
        requests = len(server.requests)
    assert requests == 1 and _actions(first) == _actions(second)
    assert cost is None or cost.usd == 0.0
    assert backend.metrics()["cache_hits"] == 1


def test_model_refusal_with_no_steps_is_a_clear_rejection(scene):
    refusal = json.dumps({"summary": "I cannot unlock the front door.", "steps": []})
    with ChatCompletionsServer([ScriptedReply(content=refusal)]) as server:
        with pytest.raises(PlanRejected, match="cannot unlock"):
            _collect(_backend(server), scene, Command("unlock the front door", "en"))


def test_plan_collects_into_a_plan_with_its_cost(scene):
    text, _ = _good_reply(scene)
    with ChatCompletionsServer([ScriptedReply(content=text, prompt_tokens=1000, completion_tokens=200)]) as server:
        plan = Plan.from_events(validated_events(_backend(server), FETCH, scene))
    assert plan.cost.tokens_in == 1000 and plan.cost.usd == pytest.approx((1000 * 0.1 + 200 * 0.3) / 1e6)


def test_concurrent_plans_do_not_mix_their_steps(scene):
    text, expected = _good_reply(scene)
    with ChatCompletionsServer([ScriptedReply(content=text, chunk_size=16) for _ in range(4)]) as server:
        backend = _backend(server, cache_size=0)
        results: list[list[PlanStep]] = []
        lock = threading.Lock()

        def plan_once() -> None:
            _, steps, _ = _collect(backend, scene)
            with lock:
                results.append(steps)

        threads = [threading.Thread(target=plan_once) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
    assert len(results) == 4 and all(_actions(r) == _actions(expected) for r in results)


def test_plan_cli_with_openai_backend_reports_the_cost(scene, tmp_path):
    import subprocess
    import sys

    text, expected = _good_reply(scene)
    with ChatCompletionsServer([ScriptedReply(content=text, prompt_tokens=2000, completion_tokens=500)]) as server:
        result = subprocess.run(
            [sys.executable, "-m", "reflexarc.cli", "plan", FETCH.text, "--backend", "openai",
             "--base-url", server.base_url, "--json"],
            capture_output=True, text=True, timeout=120,
        )
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    assert plan["backend"] == "openai"
    assert [(s["robot"], s["skill"], s["args"]) for s in plan["steps"]] == [
        (s.robot, s.skill, dict(s.args)) for s in expected
    ]
    assert plan["cost"]["tokens_in"] == 2000 and plan["cost"]["tokens_out"] == 500
    assert plan["cost"]["usd"] == pytest.approx((2000 * 0.1 + 500 * 0.3) / 1e6)


def test_plan_cli_with_unreachable_endpoint_falls_back_and_says_so(scene):
    import socket
    import subprocess
    import sys

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead_port = probe.getsockname()[1]
    result = subprocess.run(
        [sys.executable, "-m", "reflexarc.cli", "plan", FETCH.text, "--backend", "openai",
         "--base-url", f"http://127.0.0.1:{dead_port}/v1", "--json", "--timeout", "2"],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["backend"] == "openai->embedded"
