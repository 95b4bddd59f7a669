"""Start-up sequence and HTTP server: wait for the database, migrate, load prices, provision, serve."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator

import uvicorn
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connection
from uvicorn.supervisors import Multiprocess

from accounts.provisioning import initialize_from_env
from langfuse_ui import http_timeouts, lifecycle
from langfuse_ui.config import env_int
from langfuse_ui.startup import wait_for_database
from traces import export_jobs_worker, retention_schedule
from traces.dashboards import refresher
from traces.pricing_defaults import load_default_prices

MIGRATION_LOCK = 7_201_001  # pg_advisory_lock key shared by every replica
STARTUP_LOCK_POLL_SECONDS = 0.5


class Command(BaseCommand):
    help = "Prepare the database and serve the UI and API (uvicorn, ASGI)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--host", default=os.environ.get("HOST") or ("127.0.0.1" if settings.DEBUG else "0.0.0.0")
        )
        parser.add_argument("--port", type=int, default=env_int("PORT", 3000, minimum=1))
        parser.add_argument("--workers", type=int, default=env_int("WEB_CONCURRENCY", 1, minimum=1))
        parser.add_argument("--no-migrate", action="store_true", help="Skip migrations and price loading")

    def handle(self, *args, host: str, port: int, workers: int, no_migrate: bool, **options) -> None:
        retention_minutes = retention_schedule.interval_minutes()
        export_poll_seconds = export_jobs_worker.poll_seconds()
        refresh_seconds = refresher.interval_seconds()
        if not settings.EMBEDDED_DATABASE:
            wait_for_database(
                settings.DATABASE_URL, env_int("LANGFUSE_DATABASE_WAIT_SECONDS", 60), say=self.stdout.write
            )
        # Replicas started together take turns: one migrates and provisions, the others then find
        # nothing left to do instead of racing on the same tables and rows.
        with self.startup_lock():
            if not no_migrate:
                self.prepare_schema()
            result = initialize_from_env(os.environ)
        connection.close()
        self.announce(host, port, result)
        stop_purging = threading.Event()
        retention_schedule.start(retention_minutes, stop_purging)
        export_jobs_worker.start(export_poll_seconds, stop_purging)
        refresher.start(refresh_seconds, stop_purging)
        try:
            self.run_server(host, port, workers)
        finally:
            stop_purging.set()

    @contextlib.contextmanager
    def startup_lock(self) -> Iterator[None]:
        # Polled, not waited for: a replica blocked in pg_advisory_lock holds a transaction open, and
        # CREATE INDEX CONCURRENTLY in the other replica's migration waits for every older
        # transaction to end, so each would wait for the other (deadlock).
        with connection.cursor() as cursor:
            while True:
                cursor.execute("SELECT pg_try_advisory_lock(%s)", [MIGRATION_LOCK])
                if cursor.fetchone()[0]:
                    break
                time.sleep(STARTUP_LOCK_POLL_SECONDS)
            try:
                yield
            finally:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [MIGRATION_LOCK])

    def prepare_schema(self) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        prices = load_default_prices()
        self.stdout.write(
            f"Database ready; default model prices: {prices.created} new, {prices.updated} updated"
        )

    def announce(self, host: str, port: int, result) -> None:
        shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        url = f"http://{shown_host}:{port}"
        lines = [f"Langfuse UI on {url}"]
        if result.user and os.environ.get("LANGFUSE_INIT_USER_PASSWORD"):
            lines.append(
                f"Sign in as {result.user.email} with password {os.environ['LANGFUSE_INIT_USER_PASSWORD']}"
            )
        if result.project and result.public_key and result.secret_key:
            lines += [
                f"Project {result.project.name!r} ({result.project.id}); send traces with:",
                f"  LANGFUSE_HOST={url} LANGFUSE_PUBLIC_KEY={result.public_key} LANGFUSE_SECRET_KEY={result.secret_key}",
            ]
        self.stdout.write("\n".join(lines), self.style.SUCCESS)

    def run_server(self, host: str, port: int, workers: int) -> None:
        config = uvicorn.Config(
            "langfuse_ui.asgi:application",
            host=host,
            port=port,
            workers=workers,
            lifespan="off",
            # uvicorn takes seconds; a fraction works (it feeds loop.call_later).
            timeout_keep_alive=settings.HTTP_KEEPALIVE_TIMEOUT_MS / 1000,  # type: ignore[arg-type]
            http=http_timeouts.protocol_class(),
            timeout_graceful_shutdown=30,
            # With several workers, uvicorn replaces one that has not answered its ping within this many
            # seconds; its default of 5 s kills busy workers on a starved machine, cutting off requests.
            timeout_worker_healthcheck=settings.WORKER_HEALTHCHECK_TIMEOUT_SECONDS,
            log_level=os.environ.get("LANGFUSE_LOG_LEVEL", "info").lower(),
            access_log=os.environ.get("LANGFUSE_ACCESS_LOG", "false").lower() in ("1", "true"),
        )
        if workers > 1:
            # Each worker runs uvicorn's own Server; /ready turns 503 on shutdown only with one worker.
            Multiprocess(config, sockets=[config.bind_socket()]).run()
        else:
            Server(config).run()


class Server(uvicorn.Server):
    """A uvicorn server whose shutdown first turns /api/public/ready to 503."""

    def handle_exit(self, sig, frame) -> None:
        lifecycle.begin_shutdown()
        super().handle_exit(sig, frame)
