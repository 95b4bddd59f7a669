#!/usr/bin/env python
"""Django's command-line utility. Starts the embedded PostgreSQL when DATABASE_URL is unset."""

from __future__ import annotations

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "langfuse_ui.settings")
    # Start-up messages reach `docker logs` and pipes as they happen, not when a buffer fills.
    sys.stdout.reconfigure(line_buffering=True)
    from langfuse_ui.config import ConfigError

    try:
        from django.conf import settings

        settings.INSTALLED_APPS  # noqa: B018  (fail fast on a wrong setting)
        from langfuse_ui.startup import prepare_database

        prepare_database()
        from django.core.management import execute_from_command_line

        execute_from_command_line(sys.argv)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        # Ctrl-C: the server has shut down already; atexit stops the embedded database.
        raise SystemExit(130) from None


if __name__ == "__main__":
    main()
