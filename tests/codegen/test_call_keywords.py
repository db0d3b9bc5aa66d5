"""Per-call keywords of the generated methods are typed: a misspelt option is a mypy
error at the call (and a TypeError at run time, see tests/client/test_call_options.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from fluz_graphql.call_options import CallOptionsDict

import fluz

SNIPPET = """
import fluz


async def main(client: fluz.FluzClient, view: fluz.FluzClient) -> None:
    await client.get_wallet(timout=1)
    await client.get_wallet(options=fluz.CallOptions(timeout=1))
    await client.purchase_gift_card(input=None, idempotency_key=42)
    await view.get_merchants(options="fast")
    await client.get_merchants(options=fluz.CallOptions(max_retries=0), idempotency_key="k")
"""


def test_a_misspelt_per_call_option_is_a_type_error(tmp_path: Path) -> None:
    snippet = tmp_path / "snippet.py"
    snippet.write_text(SNIPPET)
    checked = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--config-file=/dev/null", str(snippet)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    errors = [line for line in checked.stdout.splitlines() if ": error:" in line]
    # One error per bad line (6: timout, 8: the key's type, 9: options' type), none for the
    # good ones (7, 10). Line 8's input=None is an error too.
    lines = sorted({int(line.split(":")[1]) for line in errors})
    assert lines == [6, 8, 9], checked.stdout
    assert 'Unexpected keyword argument "timout"' in checked.stdout


def test_the_call_options_keywords_are_fluzs() -> None:
    assert fluz.CallOptionsDict is CallOptionsDict
    assert set(CallOptionsDict.__annotations__) == {"options", "idempotency_key"}
