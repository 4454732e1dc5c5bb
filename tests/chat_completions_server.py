"""A local HTTP server that speaks the OpenAI chat-completions protocol with scripted replies.

It stands in for the one part that cannot run here (a remote large model) and speaks the real wire
protocol: ``POST /v1/chat/completions`` answered as a JSON body, or as server-sent events
(``data: {chunk}`` lines ending with ``data: [DONE]``) when the request asks to stream. Each request
takes the next scripted reply; every request body is recorded so tests can check what was sent.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class ScriptedReply:
    """One reply: the assistant's text, how it is cut into stream chunks, and how it misbehaves."""

    content: str = ""
    status: int = 200
    chunk_size: int = 8
    chunk_delay_s: float = 0.0
    delay_before_s: float = 0.0
    prompt_tokens: int = 900
    completion_tokens: int | None = None  # default: one token per 4 characters of content
    pause_after_chunk: int | None = None  # stop sending after this chunk until `release` is set
    release: threading.Event = field(default_factory=threading.Event)

    def usage(self) -> dict[str, int]:
        completion = self.completion_tokens if self.completion_tokens is not None else max(1, len(self.content) // 4)
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": completion,
            "total_tokens": self.prompt_tokens + completion,
        }


class ChatCompletionsServer:
    """Serves scripted replies on 127.0.0.1 at an ephemeral port; use as a context manager."""

    def __init__(self, replies: Iterable[ScriptedReply] = (), model: str = "XiaomiMiMo/MiMo-V2-Flash") -> None:
        self.replies: deque[ScriptedReply] = deque(replies)
        self.model = model
        self.requests: list[dict[str, Any]] = []
        self.chunks_sent = 0
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="chat-completions", daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> ChatCompletionsServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        for reply in self.replies:
            reply.release.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def _next_reply(self, body: dict[str, Any]) -> ScriptedReply:
        with self._lock:
            self.requests.append(body)
            if not self.replies:
                return ScriptedReply(status=500, content="no scripted reply left")
            return self.replies.popleft()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
                """Keep test output quiet."""

            def do_POST(self) -> None:  # noqa: N802 - stdlib naming
                if self.path.rstrip("/") != "/v1/chat/completions":
                    self._send_json(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})
                    return
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                reply = server._next_reply(body)
                if reply.delay_before_s:
                    time.sleep(reply.delay_before_s)
                if reply.status != 200:
                    self._send_json(reply.status, {"error": {"message": reply.content or "server error", "type": "server_error"}})
                    return
                if body.get("stream"):
                    self._stream(reply, include_usage=bool((body.get("stream_options") or {}).get("include_usage")))
                else:
                    self._send_json(200, _completion(server.model, reply))

            def _send_json(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _event(self, payload: dict[str, Any] | str) -> None:
                text = payload if isinstance(payload, str) else json.dumps(payload)
                self.wfile.write(f"data: {text}\n\n".encode())
                self.wfile.flush()

            def _stream(self, reply: ScriptedReply, include_usage: bool) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Connection", "close")
                self.end_headers()
                self.close_connection = True
                try:
                    self._event(_chunk(server.model, {"role": "assistant", "content": ""}))
                    pieces = [reply.content[i : i + reply.chunk_size] for i in range(0, len(reply.content), reply.chunk_size)]
                    for number, piece in enumerate(pieces):
                        self._event(_chunk(server.model, {"content": piece}))
                        with server._lock:
                            server.chunks_sent += 1
                        if reply.pause_after_chunk is not None and number == reply.pause_after_chunk:
                            reply.release.wait(timeout=30.0)
                        if reply.chunk_delay_s:
                            time.sleep(reply.chunk_delay_s)
                    self._event(_chunk(server.model, {}, finish_reason="stop"))
                    if include_usage:
                        final = _chunk(server.model, None)
                        final["usage"] = reply.usage()
                        self._event(final)
                    self._event("[DONE]")
                except (BrokenPipeError, ConnectionResetError):
                    return

        return Handler


def _chunk(model: str, delta: dict[str, Any] | None, finish_reason: str | None = None) -> dict[str, Any]:
    choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": None}]
    return {
        "id": "chatcmpl-scripted",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": choices,
    }


def _completion(model: str, reply: ScriptedReply) -> dict[str, Any]:
    return {
        "id": "chatcmpl-scripted",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": reply.content}, "finish_reason": "stop", "logprobs": None}
        ],
        "usage": reply.usage(),
    }
