"""examples/fleet_workers.py against the sandbox and a real Redis: two processes, one
token and one catalog fetch between them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from fluz.sandbox import SandboxServer

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "fleet_workers.py"


def test_two_workers_share_one_token_and_one_catalog_fetch(
    fluz_sandbox: SandboxServer, redis_url: str
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLUZ_")}
    env |= {
        "FLUZ_URL": fluz_sandbox.url,
        "FLUZ_API_KEY": fluz_sandbox.api_key,
        "FLUZ_USER_ID": fluz_sandbox.user_id,
        "FLUZ_ACCOUNT_ID": fluz_sandbox.account_id,
        "REDIS_URL": redis_url,
    }
    done = subprocess.run(
        [sys.executable, str(EXAMPLE)], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "fleet-wide: 1 token(s), 1 catalog fetch(es)"
    assert fluz_sandbox.counters().tokens_minted == 1
