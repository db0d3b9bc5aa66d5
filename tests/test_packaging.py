"""The built wheel installs into a clean virtualenv, alone and with each published extra,
and what each extra promises works there.

The wheel is built once per session; each extra gets its own fresh virtualenv with only
that extra (no dev tools that could pull in a compatible graphql-core by accident, as the
dev extra's ariadne-codegen does). pip's cache and the configured indexes make repeated
runs quick (~15 s per environment on this machine).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PUBLISHED_EXTRAS = set(
    tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
)
# Tested below, one environment each; a new extra fails test_every_extra_has_a_smoke_test.
SMOKE_TESTED_EXTRAS = {"sandbox", "dev", "redis", "otel"}


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("fluz_client-*.whl")
    return built


class CleanEnv:
    """A fresh virtualenv outside the checkout (so nothing resolves to the source tree)."""

    def __init__(self, where: Path) -> None:
        self.where = where
        venv.create(where / "venv", with_pip=True)
        self.bin = where / "venv" / "bin"
        self.work = where / "work"
        self.work.mkdir()

    def pip_install(self, *requirements: str) -> None:
        self.run("python", "-m", "pip", "install", "--quiet", *requirements)

    def run(self, program: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("FLUZ_", "PYTHON"))}
        env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
        result = subprocess.run(
            [str(self.bin / program), *args],
            capture_output=True,
            text=True,
            cwd=self.work,
            env=env,
            timeout=300,
        )
        if check and result.returncode != 0:
            pytest.fail(
                f"{program} {' '.join(args)} exited {result.returncode}:\n"
                f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
            )
        return result


def test_wheel_ships_both_packages_typed_and_no_dev_tools(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "fluz/__init__.py" in names
    assert "fluz/py.typed" in names
    assert "fluz_graphql/__init__.py" in names
    assert "fluz_graphql/py.typed" in names
    assert "fluz_graphql/schema.graphql" in names
    assert not any(name.startswith("fluz/_codegen/") for name in names)


def test_every_extra_has_a_smoke_test() -> None:
    assert PUBLISHED_EXTRAS == SMOKE_TESTED_EXTRAS


def test_base_install_imports_and_runs_the_cli(wheel: Path, tmp_path: Path) -> None:
    env = CleanEnv(tmp_path)
    env.pip_install(str(wheel))
    probe = (
        "import fluz, fluz_graphql, sys;"
        "print(fluz.FluzClient.__name__, fluz_graphql.Client.__name__);"
        "print('sandbox-loaded' if 'fluz.sandbox' in sys.modules else 'light')"
    )
    assert env.run("python", "-c", probe).stdout.split() == ["FluzClient", "Client", "light"]
    assert "purchase" in env.run("fluz", "--help").stdout
    # Without the extra, `fluz sandbox` says which extra to install (exit 2, usage).
    missing = env.run("fluz", "sandbox", "--help", check=False)
    assert missing.returncode == 2
    assert "pip install 'fluz-client[sandbox]'" in missing.stderr


def test_sandbox_extra_alone_runs_the_fixture_example_and_the_server_cli(
    wheel: Path, tmp_path: Path
) -> None:
    env = CleanEnv(tmp_path)
    env.pip_install(f"{wheel}[sandbox]", "pytest")
    # The user's view: their own test file, in their own directory, with the plugin that
    # the installed wheel registers (no conftest, no pyproject of ours).
    shutil.copy(ROOT / "examples" / "test_sandbox_fixture.py", env.work)
    tests = env.run("python", "-m", "pytest", "-q", "-p", "no:cacheprovider")
    assert " passed" in tests.stdout
    assert "failed" not in tests.stdout
    assert "--reveal-delay" in env.run("fluz", "sandbox", "--help").stdout
    assert "--reveal-delay" in env.run("python", "-m", "fluz.sandbox", "--help").stdout

    # graphql-core 3.3 (which ariadne allows) is refused with a message that says so.
    env.pip_install("graphql-core>=3.3,<3.4")
    broken = env.run("fluz", "sandbox", "--help", check=False)
    assert broken.returncode == 2
    assert "needs graphql-core>=3.2.7,<3.3" in broken.stderr
    assert "pip install 'graphql-core>=3.2.7,<3.3'" in broken.stderr
    assert "Traceback" not in broken.stderr
    from_python = env.run("python", "-c", "from fluz.sandbox import SandboxServer", check=False)
    assert "needs graphql-core>=3.2.7,<3.3" in from_python.stderr


def test_dev_extra_alone_installs_the_toolchain(wheel: Path, tmp_path: Path) -> None:
    env = CleanEnv(tmp_path)
    env.pip_install(f"{wheel}[dev]")
    probe = "import ariadne_codegen, build, mypy, pytest, trio, fluz, fluz_graphql; print('ok')"
    assert env.run("python", "-c", probe).stdout.strip() == "ok"
    assert env.run("ruff", "--version").stdout.startswith("ruff ")
    assert env.run("ariadne-codegen", "--help").returncode == 0


def test_redis_extra_alone_seals_token_records(wheel: Path, tmp_path: Path) -> None:
    env = CleanEnv(tmp_path)
    env.pip_install(f"{wheel}[redis]")
    probe = (
        "import redis.asyncio as r; from fluz.redis import RedisTokenStore, RedisEventStore;"
        "s = RedisTokenStore(r.Redis(), secret='k' * 32);"
        "sealed = s._sealer.seal(b'token', 'key');"
        "print(s._sealer.open(sealed, 'key').decode(), b'token' in sealed)"
    )
    assert env.run("python", "-c", probe).stdout.split() == ["token", "False"]


def test_otel_extra_alone_reports_through_the_opentelemetry_api(
    wheel: Path, tmp_path: Path
) -> None:
    env = CleanEnv(tmp_path)
    env.pip_install(f"{wheel}[otel]")
    probe = (
        "import sys, fluz; from fluz import _telemetry;"
        "print('opentelemetry' in sys.modules, type(_telemetry.backend()).__name__)"
    )
    assert env.run("python", "-c", probe).stdout.split() == ["False", "OtelBackend"]
