"""`python -m fluz._codegen.generate` and its `--check` (make codegen / make drift)."""

import ast
import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from fluz._codegen import generate

from .conftest import GENERATED_PACKAGE, REPO_ROOT, copy_codegen_inputs


def tree_digest(directory: Path) -> dict[str, str]:
    return {
        path.relative_to(directory).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(directory.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


@pytest.fixture(scope="session")
def regenerated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository copy on which `generate` has run once (shared by the session)."""
    root = copy_codegen_inputs(tmp_path_factory.mktemp("regenerated"))
    assert generate.main(["--root", str(root)]) == 0
    return root


def test_generate_reproduces_the_committed_package_byte_for_byte(regenerated: Path) -> None:
    # The committed package was written by this same command: a second run is a no-op.
    assert tree_digest(regenerated / "generated" / "fluz_graphql") == tree_digest(GENERATED_PACKAGE)


def test_generate_leaves_no_staging_directories(regenerated: Path) -> None:
    assert sorted(p.name for p in (regenerated / "generated").iterdir()) == [
        "fluz_graphql",
        "mypy.ini",
    ]


def test_check_passes_on_an_unmodified_copy_from_any_cwd(repo_copy: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "fluz._codegen.generate", "--check", "--root", str(repo_copy)],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout


def test_check_fails_and_names_an_edited_file(
    repo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    package = repo_copy / "generated" / "fluz_graphql"
    edited = package / "get_wallet.py"
    edited.write_text(edited.read_text() + "\n# hand edit\n")
    (package / "stray.py").write_text("")
    (package / "marco.py").unlink()
    before = tree_digest(package)

    assert generate.main(["--check", "--root", str(repo_copy)]) == 1

    err = capsys.readouterr().err
    for name in ("get_wallet.py", "stray.py", "marco.py"):
        assert f"generated/fluz_graphql/{name}" in err
    assert "input_types.py" not in err
    assert tree_digest(package) == before  # --check never writes


def test_invalid_operation_is_a_clear_nonzero_exit(
    repo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo_copy / "queries" / "broken.graphql").write_text(
        "query Broken { getWallet { noSuchField } }\n"
    )
    before = tree_digest(repo_copy / "generated" / "fluz_graphql")

    assert generate.main(["--root", str(repo_copy)]) == 2
    assert generate.main(["--check", "--root", str(repo_copy)]) == 2

    err = capsys.readouterr().err
    assert "invalid schema or operation" in err
    assert "noSuchField" in err
    assert tree_digest(repo_copy / "generated" / "fluz_graphql") == before


def test_a_base_model_option_that_base_classes_lacks_fails_codegen(
    repo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # ariadne-codegen writes the option into its BaseModel; the plugin moves BaseModel to
    # base_classes.py (built on first use) and refuses to drop the option silently.
    pyproject = repo_copy / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    pyproject.write_text(
        text.replace("async_client = true\n", "async_client = true\nignore_extra_fields = false\n")
    )
    before = tree_digest(repo_copy / "generated" / "fluz_graphql")

    assert generate.main(["--root", str(repo_copy)]) == 2

    err = capsys.readouterr().err
    assert 'BaseModel config has extra="forbid", which' in err
    assert "base_classes.py lacks" in err
    assert tree_digest(repo_copy / "generated" / "fluz_graphql") == before


def test_base_classes_left_out_of_files_to_include_fails_codegen(
    repo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pyproject = repo_copy / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    pyproject.write_text(text.replace('    "src/fluz/_codegen/base_classes.py",\n', ""))

    assert generate.main(["--root", str(repo_copy)]) == 2
    assert "base_classes.py is not in files_to_include" in capsys.readouterr().err


def test_missing_configuration_is_reported(tmp_path: Path) -> None:
    with pytest.raises(generate.CodegenError, match=r"\[tool.ariadne-codegen\]"):
        generate.find_root(tmp_path)


def test_root_is_found_from_the_module_location() -> None:
    assert generate.find_root() == REPO_ROOT


def test_a_new_operation_hides_secret_fields_even_when_aliased(repo_copy: Path) -> None:
    (repo_copy / "queries" / "zz_new.graphql").write_text(
        "mutation NewReveal($giftCardId: UUID!) {\n"
        "  revealGiftCardByGiftCardId(giftCardId: $giftCardId) { redemption: code pin }\n"
        "}\n"
    )
    assert generate.main(["--root", str(repo_copy)]) == 0
    module = repo_copy / "generated" / "fluz_graphql" / "new_reveal.py"
    fields = {
        node.target.id: ast.unparse(node.value) if node.value else ""
        for node in ast.walk(ast.parse(module.read_text()))
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
    }
    assert fields["redemption"] == "Field(repr=False)"
    assert fields["pin"] == "Field(repr=False)"
