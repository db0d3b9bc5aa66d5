"""A local, Fluz-compatible GraphQL server for demos and tests (the ``sandbox`` extra).

Start it with ``python -m fluz.sandbox``, in-process with ``SandboxServer`` (a sync and async
context manager), or in pytest through the ``fluz_sandbox`` fixture. See README.md here.

Importing this package is cheap: the server parts (ariadne, uvicorn, PyJWT) load on first
use of ``SandboxServer``, so the pytest plugin can be installed without the extra.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._config import Faults, SandboxOptions
from ._types import AccountBalances, SandboxCounters, SandboxCredentials, SeedData

if TYPE_CHECKING:
    from ._runner import SandboxServer

__all__ = [
    "AccountBalances",
    "Faults",
    "SandboxCounters",
    "SandboxCredentials",
    "SandboxOptions",
    "SandboxServer",
    "SeedData",
]


def __getattr__(name: str) -> Any:
    if name == "SandboxServer":
        return importlib.import_module("._runner", __name__).SandboxServer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
