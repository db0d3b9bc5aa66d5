"""`import fluz` loads no module it does not need yet (import time, issue 11): the
fragment, input and per-operation models, the enums, the money rules, asyncio and
pydantic's TypeAdapter load at first use."""

from __future__ import annotations

import subprocess
import sys

_PROBE = "import sys, fluz;print(' '.join(sorted(sys.modules)))"
# What `import fluz` needs of the generated package: the client, its base models and
# scalars.
_NEEDED = {
    "fluz_graphql.async_base_client",
    "fluz_graphql.base_model",
    "fluz_graphql.call_options",
    "fluz_graphql.client",
    "fluz_graphql.exceptions",
    "fluz_graphql.scalars",
}
# Loaded later, by what uses them; each cost `import fluz` a measurable share of its time.
_NOT_YET = {
    # Only the generated client's subscription method uses it (codegen plugin); a trio
    # program never needs it.
    "asyncio",
    # 31 enums: with the first input model, or where a scope name is checked (fluz._config,
    # fluz._auth); fluz._client uses them in annotations only.
    "fluz_graphql.enums",
    # With the input models (fluz._validation imports it when it checks an amount).
    "fluz_graphql.money",
    # With the merchant catalog's first (de)serialisation (fluz._catalog).
    "pydantic.type_adapter",
}


def _loaded_by_import_fluz() -> set[str]:
    return set(
        subprocess.run(
            [sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True
        ).stdout.split()
    )


def test_import_fluz_loads_no_fragment_input_or_operation_models() -> None:
    loaded = _loaded_by_import_fluz()
    generated = {name for name in loaded if name.startswith("fluz_graphql.")}
    assert generated - _NEEDED == set()


def test_import_fluz_defers_asyncio_enums_money_rules_and_type_adapter() -> None:
    assert _loaded_by_import_fluz() & _NOT_YET == set()
