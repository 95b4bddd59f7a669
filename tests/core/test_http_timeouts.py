"""LANGFUSE_HTTP_KEEPALIVE_TIMEOUT_MS and LANGFUSE_HTTP_HEADERS_TIMEOUT_MS on the real server."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass

import pytest
import uvicorn
from django.conf import settings

from langfuse_ui import embedded_db
from langfuse_ui.http_timeouts import H11WithHeadersTimeout
from tests.core.processes import Serve, manage_env
from tests.live import free_port

REQUEST = b"GET /api/public/health HTTP/1.1\r\nHost: localhost\r\n\r\n"


@dataclass
class Listening:
    port: int


@pytest.fixture(scope="module", params=["manage.py serve (httptools)", "uvicorn with h11"])
def server(request, scratch_cluster, tmp_path_factory):
    if request.param.startswith("manage.py"):
        yield from real_server(scratch_cluster, tmp_path_factory)
    else:
        yield from h11_server()


def real_server(scratch_cluster, tmp_path_factory):
    embedded_db.start(scratch_cluster)
    env = manage_env(
        DATABASE_URL=embedded_db.database_url(scratch_cluster, "postgres"),
        LANGFUSE_HTTP_KEEPALIVE_TIMEOUT_MS="600",
        LANGFUSE_HTTP_HEADERS_TIMEOUT_MS="800",
    )
    serve = Serve(env, tmp_path_factory.mktemp("http") / "server.log", "--no-migrate").wait_until_up()
    yield serve
    serve.kill()


async def health_app(scope, receive, send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"{}"})


def h11_server():
    """The h11 flavour (used when httptools is missing), in a thread of this process."""
    saved = settings.HTTP_HEADERS_TIMEOUT_MS
    settings.HTTP_HEADERS_TIMEOUT_MS = 800
    config = uvicorn.Config(
        health_app,
        port=free_port(),
        http=H11WithHeadersTimeout,
        lifespan="off",
        timeout_keep_alive=0.6,
        log_level="warning",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    yield Listening(config.port)
    server.should_exit = True
    thread.join(10)
    settings.HTTP_HEADERS_TIMEOUT_MS = saved


def connect(server: Serve | Listening) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    return sock


def read_response(sock: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(
        next(
            line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
        )
    )
    while len(body) < length:
        body += sock.recv(4096)
    return head


def closed_after(sock: socket.socket) -> float:
    """Seconds until the server closes the connection (recv returns b"")."""
    started = time.monotonic()
    while sock.recv(4096):
        pass
    return time.monotonic() - started


def test_idle_keep_alive_connection_closes_after_the_keep_alive_timeout(server):
    with connect(server) as sock:
        sock.sendall(REQUEST)
        assert read_response(sock).startswith(b"HTTP/1.1 200")
        time.sleep(0.2)
        sock.sendall(REQUEST)  # still open within the timeout
        assert read_response(sock).startswith(b"HTTP/1.1 200")
        assert 0.4 < closed_after(sock) < 2


def test_request_headers_that_never_finish_get_408_and_the_connection_closes(server):
    with connect(server) as sock:
        started = time.monotonic()
        sock.sendall(b"GET /api/public/health HTTP/1.1\r\nHost: localhost\r\n")
        answer = sock.recv(4096)
        assert answer.startswith(b"HTTP/1.1 408 Request Timeout")
        assert 0.6 < time.monotonic() - started < 2.5
        assert closed_after(sock) < 1


def test_a_connection_that_sends_nothing_is_closed_without_an_answer(server):
    with connect(server) as sock:
        started = time.monotonic()
        assert sock.recv(4096) == b""
        assert 0.6 < time.monotonic() - started < 2.5


def test_slow_headers_within_the_timeout_are_served(server):
    with connect(server) as sock:
        sock.sendall(b"GET /api/public/health HTTP/1.1\r\n")
        time.sleep(0.4)
        sock.sendall(b"Host: localhost\r\n\r\n")
        assert read_response(sock).startswith(b"HTTP/1.1 200")


def test_the_headers_timeout_starts_again_for_the_next_request_on_a_connection(server):
    with connect(server) as sock:
        sock.sendall(REQUEST)
        assert read_response(sock).startswith(b"HTTP/1.1 200")
        sock.sendall(b"GET /api/public/health HTTP/1.1\r\n")  # cancels the keep-alive timer
        started = time.monotonic()
        assert sock.recv(4096).startswith(b"HTTP/1.1 408")
        assert 0.6 < time.monotonic() - started < 2.5
