"""Loading the examples (scripts in examples/, not a package) as modules."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

from fluz.sandbox import SandboxServer

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def load_example(name: str) -> ModuleType:
    """Import ``examples/<name>.py`` as a module (once)."""
    module_name = f"fluz_example_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, EXAMPLES / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def sandbox_environ(server: SandboxServer) -> dict[str, str]:
    """The FLUZ_* variables `fluz sandbox` tells users to export."""
    return {
        "FLUZ_URL": server.url,
        "FLUZ_API_KEY": server.api_key,
        "FLUZ_USER_ID": server.user_id,
        "FLUZ_ACCOUNT_ID": server.account_id,
    }


def without_fluz_environ() -> dict[str, str]:
    """This process's environment without any FLUZ_* variable (for subprocesses)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("FLUZ_")}
