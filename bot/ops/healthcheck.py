"""`python -m bot.ops.healthcheck`: exit 0 when the running bot's `/healthz` says ok (for
container health checks). Asks `METRICS_PORT`, or the webhook server's port in webhook mode."""

from __future__ import annotations

import os
import sys
import urllib.request


def health_url(environ: dict[str, str]) -> str:
    port = environ.get("METRICS_PORT") or environ.get("WEBHOOK_PORT") or "8080"
    if environ.get("WEBHOOK_URL"):
        port = environ.get("WEBHOOK_PORT") or "8080"
    return f"http://127.0.0.1:{port}/healthz"


def main() -> int:
    try:
        with urllib.request.urlopen(health_url(dict(os.environ)), timeout=8) as response:
            return 0 if response.status == 200 else 1
    except OSError as error:
        print(f"unhealthy: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
