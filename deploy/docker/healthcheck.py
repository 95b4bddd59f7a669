"""Container health check: exit 0 when GET /api/public/health on this container's server answers 200.

Standard library only (the image has no curl). The port is the server's PORT (3000 by default).
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request


def main() -> int:
    url = f"http://127.0.0.1:{os.environ.get('PORT') or '3000'}/api/public/health"
    try:
        with urllib.request.urlopen(url, timeout=4) as response:
            status = response.status
    except (urllib.error.URLError, OSError) as exc:
        print(f"unhealthy: {url}: {exc}", file=sys.stderr)
        return 1
    if status != 200:
        print(f"unhealthy: {url} answered {status}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
