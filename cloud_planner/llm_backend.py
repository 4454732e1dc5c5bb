"""The production brain: plan with a large model behind any OpenAI-compatible endpoint.

SGLang or vLLM serving ``XiaomiMiMo/MiMo-V2-Flash``, Ollama or a llama.cpp server all speak the
chat-completions API, so one client serves them all. The model's reply is streamed and every step is
forwarded the moment it is complete *and* valid, so the robot's first action does not wait for the
last token. Nothing the model writes is trusted: each step is decoded strictly and checked by the same
validator as the embedded planner; a refused step gets one repair round quoting the validator, then
the embedded planner takes over. Requests that fail before any step was forwarded are retried once
(nothing reached a robot, so a retry is safe); a circuit breaker sends requests straight to the
embedded planner while the endpoint is down, and probes it back. Token usage is priced per plan.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from cloud_planner.backend import BackendOptions, PlanEvent
from cloud_planner.circuit_breaker import CircuitBreaker
from cloud_planner.embedded import EmbeddedBackend
from cloud_planner.errors import PlanRejected, RejectCode, ValidationError
from cloud_planner.json_stream import PlanStreamError, PlanStreamParser
from cloud_planner.language import detect_language, normalise
from cloud_planner.llm_prompt import PLAN_JSON_SCHEMA, build_messages, decode_step, repair_message
from cloud_planner.plan import Command, Fact, Plan, PlanCost, PlanHeader, PlanStep, make_plan_id
from cloud_planner.plan_cache import PlanCache, PlanCacheKey
from cloud_planner.validator import Validator
from reflexarc.scene_graph import SceneGraph

__all__ = ["DEFAULT_MODEL", "LLMBackend", "LLMSettings", "Pricing"]

_log = logging.getLogger(__name__)

DEFAULT_MODEL = "XiaomiMiMo/MiMo-V2-Flash"
DEFAULT_BASE_URL = "http://127.0.0.1:30000/v1"  # SGLang's default port


@dataclass(frozen=True)
class Pricing:
    """US dollars per million tokens (default: the published MiMo-V2-Flash prices)."""

    input_per_million: float = 0.1
    output_per_million: float = 0.3

    def cost(self, tokens_in: int, tokens_out: int) -> float:
        """Price of one exchange."""
        return (tokens_in * self.input_per_million + tokens_out * self.output_per_million) / 1e6


@dataclass(frozen=True)
class LLMSettings:
    """Everything that configures the model backend, with defaults for a local SGLang server."""

    base_url: str = DEFAULT_BASE_URL
    model: str = DEFAULT_MODEL
    api_key_env: str = "OPENAI_API_KEY"
    deadline_s: float = 30.0
    max_tokens: int = 2048
    temperature: float = 0.0
    retries_before_first_step: int = 1
    breaker_failures: int = 3
    breaker_reset_s: float = 30.0
    cache_size: int = 256
    pricing: Pricing = field(default_factory=Pricing)

    @classmethod
    def from_options(cls, options: BackendOptions) -> LLMSettings:
        """Settings from the generic backend options of the CLI and server."""
        return cls(
            base_url=options.base_url or DEFAULT_BASE_URL,
            model=options.model or DEFAULT_MODEL,
            api_key_env=options.api_key_env,
            deadline_s=options.timeout_s,
        )


class _EndpointError(Exception):
    """The endpoint failed (connection, HTTP error, deadline), as opposed to the model misbehaving."""


@dataclass
class _Exchange:
    """Token usage of one request."""

    tokens_in: int = 0
    tokens_out: int = 0


@dataclass
class _Metrics:
    plans: int = 0
    fallbacks: int = 0
    repairs: int = 0
    endpoint_errors: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    usd: float = 0.0


class LLMBackend:
    """Streams validated plan steps from an OpenAI-compatible chat-completions endpoint."""

    name = "openai"

    def __init__(self, options: BackendOptions | None = None, settings: LLMSettings | None = None) -> None:
        from openai import OpenAI  # the `llm` extra; imported here so the embedded default needs none

        self.settings = settings or LLMSettings.from_options(options or BackendOptions())
        api_key = os.environ.get(self.settings.api_key_env) or "not-needed-for-local-servers"
        self._client = OpenAI(
            api_key=api_key, base_url=self.settings.base_url, timeout=self.settings.deadline_s, max_retries=0
        )
        self._fallback = EmbeddedBackend()
        self.breaker = CircuitBreaker(self.settings.breaker_failures, self.settings.breaker_reset_s)
        self.cache: PlanCache[Plan] = PlanCache(self.settings.cache_size)
        self._metrics = _Metrics()
        self._lock = threading.Lock()

    @property
    def identity(self) -> str:
        """Backend and model, as used in cache keys and logs."""
        return f"{self.name}:{self.settings.model}"

    def metrics(self) -> dict[str, float | int | str]:
        """Counters since start: plans, fallbacks, repairs, endpoint errors, tokens, dollars, cache, breaker."""
        with self._lock:
            data = dict(vars(self._metrics))
        data.update(cache_hits=self.cache.hits, cache_misses=self.cache.misses, breaker=self.breaker.state.value)
        return data

    def plan(self, command: Command, scene: SceneGraph, *, facts: tuple[Fact, ...] = ()) -> Iterator[PlanEvent]:
        """Yield a header, each validated step as the model completes it (or a fallback plan), then the cost."""
        key = PlanCacheKey.of(command.text, scene.content_hash(), self.identity) if not facts else None
        cached = self.cache.get(key) if key else None
        if cached is not None:
            yield replace(cached.header, cost=PlanCost())
            yield from cached.steps
            return
        run = _PlanRun(self, command, scene, facts)
        yield from run.events()
        yield run.cost  # known only once the reply is complete: a trailing event, after the steps
        if key and run.completed_plan is not None and not run.fell_back:
            self.cache.put(key, run.completed_plan)
        with self._lock:
            self._metrics.plans += 1
            self._metrics.fallbacks += int(run.fell_back)
            self._metrics.repairs += run.repairs
            self._metrics.endpoint_errors += run.endpoint_errors
            self._metrics.tokens_in += run.usage.tokens_in
            self._metrics.tokens_out += run.usage.tokens_out
            self._metrics.usd += run.cost.usd

    def stream_text(self, messages: list[dict[str, str]], usage: _Exchange, deadline: float) -> Iterator[str]:
        """Text deltas of one streamed completion; raises _EndpointError on any transport failure."""
        import openai

        try:
            stream = self._client.chat.completions.create(
                model=self.settings.model,
                messages=messages,
                stream=True,
                stream_options={"include_usage": True},
                response_format={"type": "json_schema", "json_schema": PLAN_JSON_SCHEMA},
                temperature=self.settings.temperature,
                max_tokens=self.settings.max_tokens,
                timeout=max(0.1, deadline - time.monotonic()),
            )
            with stream:
                for chunk in stream:
                    if chunk.usage is not None:
                        usage.tokens_in += chunk.usage.prompt_tokens or 0
                        usage.tokens_out += chunk.usage.completion_tokens or 0
                    if chunk.choices and chunk.choices[0].delta.content:
                        yield chunk.choices[0].delta.content
                    if time.monotonic() > deadline:
                        raise _EndpointError(f"the model did not finish within {self.settings.deadline_s:g} s")
        except openai.APIStatusError as exc:
            raise _EndpointError(f"the endpoint answered HTTP {exc.status_code}") from exc
        except openai.APITimeoutError as exc:
            raise _EndpointError(f"the model did not answer within {self.settings.deadline_s:g} s") from exc
        except openai.APIError as exc:
            raise _EndpointError(f"the endpoint failed: {type(exc).__name__}: {exc}") from exc

    def fallback_events(self, command: Command, scene: SceneGraph, facts: tuple[Fact, ...]) -> Iterator[PlanEvent]:
        """The embedded planner's events (it raises PlanRejected for commands it cannot plan)."""
        return self._fallback.plan(command, scene, facts=facts)


def _action(step: PlanStep) -> tuple:
    """What a step does, ignoring its wording: two planners agree on a step iff these match."""
    return step.index, step.robot, step.skill, tuple(sorted(step.args.items()))


class _PlanRun:
    """One planning request: streaming, validation, the repair round and the fallback."""

    def __init__(self, backend: LLMBackend, command: Command, scene: SceneGraph, facts: tuple[Fact, ...]) -> None:
        self.backend = backend
        self.command = command
        self.scene = scene
        self.facts = facts
        self.usage = _Exchange()
        self.sent: list[PlanStep] = []
        self.header: PlanHeader | None = None
        self.fell_back = False
        self.repairs = 0
        self.endpoint_errors = 0
        self.completed_plan: Plan | None = None
        self._validator = Validator(scene)
        self._started = time.monotonic()

    @property
    def cost(self) -> PlanCost:
        pricing = self.backend.settings.pricing
        return PlanCost(
            tokens_in=self.usage.tokens_in,
            tokens_out=self.usage.tokens_out,
            usd=pricing.cost(self.usage.tokens_in, self.usage.tokens_out),
            latency_ms=(time.monotonic() - self._started) * 1000.0,
        )

    def events(self) -> Iterator[PlanEvent]:
        breaker = self.backend.breaker
        if not breaker.allow():
            _log.warning("model endpoint circuit open; planning with the embedded planner")
            yield from self._fall_back("the model endpoint is unavailable (circuit open)")
            return
        messages = build_messages(self.command, self.scene, self.facts)
        attempts = 1 + self.backend.settings.retries_before_first_step
        for attempt in range(attempts):
            try:
                outcome = yield from self._stream_plan(messages)
            except _EndpointError as exc:
                self.endpoint_errors += 1
                breaker.record_failure()
                _log.warning("model request %d/%d failed: %s", attempt + 1, attempts, exc)
                if self.sent or attempt + 1 == attempts or not breaker.allow():
                    yield from self._fall_back(str(exc))
                    return
                continue
            breaker.record_success()
            if outcome is None:
                self._finish()
                return
            error, partial_text = outcome
            yield from self._repair(messages, partial_text, error)
            return

    def _stream_plan(self, messages: list[dict[str, str]]):
        """Stream one reply, forwarding valid steps; return None when done, else (error, text so far)."""
        deadline = time.monotonic() + self.backend.settings.deadline_s
        parser = PlanStreamParser()
        for text in self.backend.stream_text(messages, self.usage, deadline):
            try:
                raw_steps = parser.feed(text)
            except PlanStreamError as exc:
                return ValidationError(RejectCode.INVALID_ARGUMENT, str(exc), step_index=len(self.sent)), parser.text
            for raw in raw_steps:
                error = yield from self._accept(raw, parser)
                if error is not None:
                    return error, parser.text
        try:
            document = parser.close()
        except PlanStreamError as exc:
            return ValidationError(RejectCode.INVALID_ARGUMENT, str(exc), step_index=len(self.sent)), parser.text
        if not isinstance(document.get("steps"), list):
            return (
                ValidationError(RejectCode.INVALID_ARGUMENT, "the reply has no 'steps' list", step_index=len(self.sent)),
                parser.text,
            )
        if not document["steps"] and not self.sent:
            raise PlanRejected(
                RejectCode.UNSUPPORTED_ACTION,
                str(document.get("summary") or "the planner found nothing it may do for this request"),
            )
        if self.header is None:
            yield self._make_header(parser)
        return None

    def _accept(self, raw: object, parser: PlanStreamParser):
        """Decode and validate one streamed step; yield it (after the header) or return the error."""
        index = len(self.sent)
        try:
            step = decode_step(raw, index)
            self._validator.check_step(step)
        except ValidationError as exc:
            return exc
        if self.header is None:
            yield self._make_header(parser)
        self.sent.append(step)
        yield step
        return None

    def _make_header(self, parser: PlanStreamParser) -> PlanHeader:
        language = parser.fields.get("language") if parser.fields.get("language") in ("en", "ko") else ""
        self.header = PlanHeader(
            plan_id=make_plan_id(self.backend.identity, self.command.text, self.scene.content_hash(), self.facts),
            command=normalise(self.command.text),
            language=language or self.command.language or detect_language(self.command.text),
            summary=str(parser.fields.get("summary") or "plan from the language model"),
            total_steps=0,
            backend=self.backend.name,
            scene_hash=self.scene.content_hash(),
        )
        return self.header

    def _repair(self, messages: list[dict[str, str]], partial_text: str, error: ValidationError):
        """One repair round quoting the validator; steps already sent must come back unchanged."""
        self.repairs += 1
        _log.info("asking the model to repair step %s: %s", error.step_index, error.message)
        repair = [*messages, {"role": "assistant", "content": partial_text}, repair_message(error, len(self.sent))]
        deadline = time.monotonic() + self.backend.settings.deadline_s
        parser = PlanStreamParser()
        position = 0
        try:
            for text in self.backend.stream_text(repair, self.usage, deadline):
                for raw in parser.feed(text):
                    if position < len(self.sent):
                        if _action(decode_step(raw, position)) != _action(self.sent[position]):
                            yield from self._fall_back("the repaired plan changed steps already sent")
                            return
                        position += 1
                        continue
                    refused = yield from self._accept(raw, parser)
                    if refused is not None:
                        yield from self._fall_back(f"the repaired plan was refused too: {refused.message}")
                        return
                    position += 1
            parser.close()
        except (_EndpointError, PlanStreamError, ValidationError) as exc:
            yield from self._fall_back(f"the repair failed: {exc}")
            return
        if position < len(self.sent) or not self.sent:
            yield from self._fall_back("the repaired plan was incomplete")
            return
        self._finish()

    def _fall_back(self, reason: str) -> Iterator[PlanEvent]:
        """Continue with the embedded planner; only seamless if it agrees with the steps already sent."""
        self.fell_back = True
        _log.warning("falling back to the embedded planner: %s", reason)
        events = iter(self.backend.fallback_events(self.command, self.scene, self.facts))
        header = next(events)
        steps = list(events)
        if [_action(s) for s in steps[: len(self.sent)]] != [_action(s) for s in self.sent]:
            raise PlanRejected(
                RejectCode.BACKEND_ERROR,
                f"the language model failed mid-plan ({reason}) and the embedded plan differs from the "
                f"{len(self.sent)} step(s) already sent; stopping here",
            )
        if self.header is None:
            self.header = replace(
                header,
                backend=f"{self.backend.name}->embedded",
                summary=f"{header.summary} (embedded planner: {reason})",
                cost=PlanCost(),
            )
            yield self.header
        for step in steps[len(self.sent) :]:
            self._validator.check_step(step)
            self.sent.append(step)
            yield step
        self._finish()

    def _finish(self) -> None:
        assert self.header is not None
        self.completed_plan = Plan.from_events((self.header, *self.sent))
        self.completed_plan = replace(self.completed_plan, cost=self.cost)
