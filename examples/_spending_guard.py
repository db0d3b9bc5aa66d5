"""Keeps the examples that buy gift cards from spending real money by accident.

They run freely against a loopback URL (the sandbox); against any other Fluz they need
``--yes`` on the command line.
"""

from __future__ import annotations

import os
import sys
from urllib.parse import urlsplit

from fluz import ENVIRONMENT_URLS


def confirm_spending() -> None:
    url = os.environ.get("FLUZ_URL") or ENVIRONMENT_URLS.get(
        os.environ.get("FLUZ_ENVIRONMENT") or "production", "?"
    )
    host = urlsplit(url).hostname or ""
    if host in {"localhost", "::1"} or host.startswith("127."):
        return
    if "--yes" in sys.argv:
        sys.argv.remove("--yes")
        return
    sys.exit(f"this example buys gift cards at {url}: add --yes to spend real money")
