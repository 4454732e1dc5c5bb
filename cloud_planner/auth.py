"""Per-robot bearer-token authentication of planner calls, as a gRPC server interceptor.

Each robot (or home edge) holds its own token, so a leaked token speaks for one robot only and can be
revoked alone. The token file has one ``robot_id:token`` per line (``#`` comments and blank lines
ignored); a file holding a single line without ``:`` is a shared token valid for any robot id (small
deployments, development). Tokens are compared with :func:`hmac.compare_digest` against every entry,
so the time taken says nothing about how much of a guess was right nor which robot it matched.

A call without a valid ``authorization: Bearer <token>`` header ends with UNAUTHENTICATED before
the servicer sees it (the health service stays open for load balancers). A Session whose first
message is not a Hello naming the token's robot ends with PERMISSION_DENIED: a robot cannot
impersonate another, nor skip the Hello that names it.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import grpc

__all__ = ["ANY_ROBOT", "AuthError", "TokenAuthInterceptor", "TokenTable", "bearer_metadata", "is_loopback_host",
           "target_is_loopback"]

_log = logging.getLogger(__name__)

ANY_ROBOT = "*"
_OPEN_METHOD_PREFIXES = ("/grpc.health.v1.Health/",)


class AuthError(ValueError):
    """A token file or token configuration that cannot be used."""


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` (a name or an IP, brackets allowed) stays on this machine."""
    name = host.strip("[]")
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def target_is_loopback(target: str) -> bool:
    """Whether a gRPC target ``host:port`` (optionally ``ipv4:``/``ipv6:``/``dns:///``-prefixed) is loopback."""
    for prefix in ("dns:///", "ipv4:", "ipv6:"):
        target = target.removeprefix(prefix)
    host = target.rsplit(":", 1)[0] if target.count(":") == 1 or target.startswith("[") else target
    return is_loopback_host(host)


def bearer_metadata(token: str) -> tuple[tuple[str, str], ...]:
    """Call metadata carrying ``token`` (empty when there is none)."""
    return (("authorization", f"Bearer {token}"),) if token else ()


@dataclass(frozen=True)
class TokenTable:
    """Which token speaks for which robot.

    Attributes:
        tokens: Robot id -> token; the id ``ANY_ROBOT`` marks a shared token valid for every robot.
    """

    tokens: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.tokens:
            raise AuthError("a token table needs at least one token")
        for robot, token in self.tokens.items():
            if not robot.strip() or not token.strip():
                raise AuthError("robot ids and tokens must not be empty")
        if len(set(self.tokens.values())) != len(self.tokens):
            raise AuthError("two robots share a token; every robot needs its own")
        object.__setattr__(self, "tokens", MappingProxyType(dict(self.tokens)))

    @classmethod
    def shared(cls, token: str) -> TokenTable:
        """One token for every robot."""
        return cls({ANY_ROBOT: token})

    @classmethod
    def parse(cls, text: str) -> TokenTable:
        """A table from token-file text (``robot_id:token`` lines, or one bare shared token)."""
        lines = [line.strip() for line in text.splitlines()]
        lines = [line for line in lines if line and not line.startswith("#")]
        if len(lines) == 1 and ":" not in lines[0]:
            return cls.shared(lines[0])
        tokens: dict[str, str] = {}
        for number, line in enumerate(lines, 1):
            robot, sep, token = line.partition(":")
            robot, token = robot.strip(), token.strip()
            if not sep or not robot or not token:
                raise AuthError(f"token file line {number}: expected robot_id:token")
            if robot in tokens:
                raise AuthError(f"token file line {number}: robot {robot!r} listed twice")
            tokens[robot] = token
        return cls(tokens)

    @classmethod
    def from_file(cls, path: str | Path) -> TokenTable:
        """A table read from a token file; raises AuthError (unreadable, empty, malformed)."""
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise AuthError(f"cannot read token file {path}: {exc}") from exc
        return cls.parse(text)

    def robot_for(self, presented: str) -> str | None:
        """The robot id ``presented`` authenticates (``ANY_ROBOT`` for a shared token), else None."""
        given = presented.encode("utf-8", "surrogatepass")
        matched: str | None = None
        for robot, token in self.tokens.items():  # no early exit: time does not depend on the match
            if hmac.compare_digest(given, token.encode("utf-8")):
                matched = robot
        return matched


def _presented_token(metadata: object) -> str:
    for key, value in metadata or ():
        if key == "authorization" and isinstance(value, str) and value.startswith("Bearer "):
            return value[len("Bearer "):]
    return ""


def _checked_edge_messages(requests: Iterator, robot: str, context: grpc.ServicerContext) -> Iterator:
    """Pass a Session's edge messages through; the first must be a Hello naming the token's robot."""
    first = True
    for message in requests:
        is_hello = getattr(message, "WhichOneof", None) is not None and message.WhichOneof("message") == "hello"
        if first and not is_hello:
            context.abort(grpc.StatusCode.PERMISSION_DENIED,
                          f"the first message of a session must be a Hello for robot {robot!r}")
        first = False
        if is_hello and message.hello.robot_id != robot:
            _log.warning("token of robot %r used for robot %r from %s", robot, message.hello.robot_id,
                         context.peer())
            context.abort(grpc.StatusCode.PERMISSION_DENIED,
                          f"Hello.robot_id {message.hello.robot_id!r} does not match the token's robot")
        yield message


def _deny(code: grpc.StatusCode, details: str) -> Callable:
    def deny(_request, context: grpc.ServicerContext):
        context.abort(code, details)

    return deny


class TokenAuthInterceptor(grpc.ServerInterceptor):
    """Refuses calls without a valid token; binds Session streams to the token's robot."""

    def __init__(self, table: TokenTable) -> None:
        self._table = table

    def intercept_service(self, continuation, handler_call_details):
        """Authenticate one call before its handler runs."""
        handler = continuation(handler_call_details)
        if handler is None or handler_call_details.method.startswith(_OPEN_METHOD_PREFIXES):
            return handler
        robot = self._table.robot_for(_presented_token(handler_call_details.invocation_metadata))
        if robot is None:
            _log.info("refused %s: missing or wrong token", handler_call_details.method)
            return _replace_behaviour(handler, _deny(grpc.StatusCode.UNAUTHENTICATED, "missing or wrong bearer token"))
        if robot == ANY_ROBOT or not handler.stream_stream:
            return handler
        behaviour = handler.stream_stream

        def bound_session(requests, context):
            return behaviour(_checked_edge_messages(requests, robot, context), context)

        return grpc.stream_stream_rpc_method_handler(
            bound_session, request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


def _replace_behaviour(handler: grpc.RpcMethodHandler, behaviour: Callable) -> grpc.RpcMethodHandler:
    """A handler of the same shape as ``handler`` that runs ``behaviour`` instead."""
    if handler.unary_unary:
        return grpc.unary_unary_rpc_method_handler(behaviour)
    if handler.unary_stream:
        return grpc.unary_stream_rpc_method_handler(behaviour)
    if handler.stream_unary:
        return grpc.stream_unary_rpc_method_handler(behaviour)
    return grpc.stream_stream_rpc_method_handler(behaviour)
