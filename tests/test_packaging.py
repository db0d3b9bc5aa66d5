"""The built wheel installs into a clean virtualenv and ships both typed packages."""

import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("fluz_client-*.whl")
    return built


def test_wheel_ships_both_packages_typed_and_no_dev_tools(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "fluz/__init__.py" in names
    assert "fluz/py.typed" in names
    assert "fluz_graphql/__init__.py" in names
    assert "fluz_graphql/py.typed" in names
    assert "fluz_graphql/schema.graphql" in names
    assert not any(name.startswith("fluz/_codegen/") for name in names)


def test_wheel_installs_and_imports_in_a_clean_virtualenv(wheel: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(wheel)],
        check=True,
        capture_output=True,
    )
    probe = (
        "import fluz, fluz_graphql, sys;"
        "print(fluz.FluzClient.__name__, fluz_graphql.Client.__name__);"
        "print('sandbox-loaded' if 'fluz.sandbox' in sys.modules else 'light')"
    )
    result = subprocess.run(
        [str(python), "-c", probe], check=True, capture_output=True, text=True, cwd=tmp_path
    )
    assert result.stdout.split() == ["FluzClient", "Client", "light"]
