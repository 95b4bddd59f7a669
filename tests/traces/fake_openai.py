"""A tiny OpenAI-compatible server on loopback: answers /chat/completions and records the requests."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

REPLY = "Replayed: it is 22 °C in Paris."
USAGE = {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17}


@dataclass
class FakeOpenAI:
    base_url: str
    received: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)


@contextmanager
def fake_openai(
    status: int = 200, error: str = "upstream model is overloaded", delay: float = 0
) -> Iterator[FakeOpenAI]:
    """Answers `status` (with `error` as the message when not 200), after `delay` seconds."""
    server_state: dict[str, FakeOpenAI] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
            fake = server_state["fake"]
            fake.received.append(body)
            fake.headers.append(dict(self.headers))
            time.sleep(delay)
            if self.path != "/v1/chat/completions":
                self._answer(404, {"error": {"message": f"no route {self.path}"}})
            elif status != 200:
                self._answer(status, {"error": {"message": error}})
            else:
                self._answer(
                    200,
                    {
                        "id": "chatcmpl-test",
                        "object": "chat.completion",
                        "model": body.get("model"),
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": REPLY},
                                "finish_reason": "stop",
                            }
                        ],
                        "usage": USAGE,
                    },
                )

        def _answer(self, code: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server_state["fake"] = FakeOpenAI(base_url=f"http://127.0.0.1:{server.server_address[1]}/v1")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server_state["fake"]
    finally:
        server.shutdown()
        server.server_close()
