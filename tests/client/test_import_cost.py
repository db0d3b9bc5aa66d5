"""`import fluz` loads no generated models it does not need yet (import time, issue 11):
the fragment, input and per-operation modules load at first use."""

from __future__ import annotations

import subprocess
import sys

_PROBE = (
    "import sys, fluz;"
    "print(' '.join(sorted(m for m in sys.modules if m.startswith('fluz_graphql.'))))"
)
# What `import fluz` needs: the client, its base models, enums, scalars and money rules.
_NEEDED = {
    "fluz_graphql.async_base_client",
    "fluz_graphql.base_model",
    "fluz_graphql.call_options",
    "fluz_graphql.client",
    "fluz_graphql.enums",
    "fluz_graphql.exceptions",
    "fluz_graphql.money",
    "fluz_graphql.scalars",
}


def test_import_fluz_loads_no_fragment_input_or_operation_models() -> None:
    loaded = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True
    ).stdout.split()
    assert set(loaded) - _NEEDED == set()
