"""`import fluz` loads no module it does not need yet (import time, issue 11): the
fragment, input and per-operation models, the enums, the money rules, asyncio, pydantic's
TypeAdapter and its model machinery (pydantic.main) load at first use. It builds no
pydantic class either: the generated base classes and the fast path's envelopes are built
on first use, once, whichever thread or event loop gets there first."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

_PROBE = "import sys, fluz;print(' '.join(sorted(sys.modules)))"
# What `import fluz` needs of the generated package: the client, UNSET (base_model, which
# resolves BaseModel and InputModel from base_classes on first use) and scalars.
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


# Records every pydantic model class built from here on (pydantic builds its own root
# BaseModel when pydantic.main is first imported; that one is not fluz's).
_RECORD_BUILDS = """
from pydantic._internal import _model_construction

BUILT = []
_new = _model_construction.ModelMetaclass.__new__


def _record(mcs, name, *args, **kwargs):
    cls = _new(mcs, name, *args, **kwargs)
    if not cls.__module__.startswith("pydantic."):
        BUILT.append(f"{cls.__module__}.{name}")
    return cls


_model_construction.ModelMetaclass.__new__ = _record
"""
_REPO = Path(__file__).resolve().parents[2]


def _run(code: str, *, record_builds: bool = True) -> str:
    """Run *code* (after _RECORD_BUILDS, unless not *record_builds*) in a fresh
    interpreter; its stdout."""
    prelude = _RECORD_BUILDS if record_builds else ""
    return subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=True,
        cwd=_REPO,
    ).stdout


def test_import_fluz_builds_no_pydantic_model() -> None:
    out = _run("""
        import fluz
        from fluz import FluzClient, ValidationError, response_info

        print(BUILT)
        """)
    assert out.split() == ["[]"]


_FIRST_USE_IN_THREADS = """
import threading

import fluz

barrier = threading.Barrier(8)
seen = []


def first_use():
    barrier.wait()
    from fluz_graphql.base_model import BaseModel, InputModel
    from fluz_graphql.input_types import OffsetInput

    seen.append((BaseModel, InputModel, OffsetInput(limit=5).limit))


threads = [threading.Thread(target=first_use) for _ in range(8)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(len(seen), len(set(seen)), seen[0][2])
print(sorted(name for name in BUILT if name.startswith("fluz_graphql.base_classes")))
from fluz_graphql.input_types import OffsetInput

try:
    OffsetInput(limit="many")
except fluz.ValidationError as exc:
    print("fluz.ValidationError", exc.field, exc.rule)
"""


def test_the_base_classes_are_built_once_on_first_use_from_racing_threads() -> None:
    lines = _run(_FIRST_USE_IN_THREADS).splitlines()
    assert lines[0] == "8 1 5"  # every thread got the same classes, and a working model
    assert lines[1] == str(
        ["fluz_graphql.base_classes.BaseModel", "fluz_graphql.base_classes.InputModel"]
    )
    # fluz's error for bad input, installed at `import fluz`, before the classes existed
    assert lines[2] == "fluz.ValidationError limit int_parsing"


_FIRST_CALL = """
import threading

import anyio
import fluz
from fluz_graphql.input_types import PurchaseGiftCardInput

from tests.client.fakes import FakeFluz, gql, purchase

results = {}


async def first_call(backend):
    fake = FakeFluz().on("PurchaseGiftCard", gql({"purchaseGiftCard": purchase()}, rid=backend))
    async with fake.client() as client:
        result = await client.purchase_gift_card(
            input=PurchaseGiftCardInput(merchant_slug="amazon", amount=25)
        )
    results[backend] = fluz.response_info(result).request_id


threads = [
    threading.Thread(target=anyio.run, args=(first_call, backend), kwargs={"backend": backend})
    for backend in ("asyncio", "trio")
]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(sorted(results.items()))
"""


def test_the_first_calls_on_asyncio_and_trio_at_once_attach_their_metadata() -> None:
    # Each thread runs its own event loop: the envelope and the metadata slot's setter
    # are made by whichever call gets there first.
    assert _run(_FIRST_CALL).strip() == str([("asyncio", "asyncio"), ("trio", "trio")])


# pydantic's model machinery (~18 ms, the largest share of `import fluz` it took): loaded by
# the first model class, which no call needs before it has an input or a result to build.
_MACHINERY = (
    "pydantic.main",
    "pydantic._internal._model_construction",
    "pydantic._internal._generate_schema",
)
_MACHINERY_LOADED = f"print([name for name in {_MACHINERY!r} if name in sys.modules])\n"
_FIRST_CALL_RESULTS = str([("asyncio", "asyncio"), ("trio", "trio")])


def test_import_fluz_leaves_pydantic_model_machinery_for_the_first_call() -> None:
    lines = _run("import sys\nimport fluz\n" + _MACHINERY_LOADED + _FIRST_CALL, record_builds=False)
    assert lines.splitlines() == ["[]", _FIRST_CALL_RESULTS]
