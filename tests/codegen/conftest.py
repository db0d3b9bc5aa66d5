"""Fixtures for the codegen tests: the schema, the operation documents, a repo copy."""

import shutil
from pathlib import Path

import pytest
from graphql import DocumentNode, GraphQLSchema, build_schema, parse

from fluz._codegen.plugin import FluzCodegenPlugin

REPO_ROOT = Path(__file__).resolve().parents[2]
SCHEMA_PATH = REPO_ROOT / "schema" / "fluz.graphql"
QUERIES_DIR = REPO_ROOT / "queries"
FRAGMENTS_PATH = QUERIES_DIR / "fragments.graphql"
GENERATED_PACKAGE = REPO_ROOT / "generated" / "fluz_graphql"
# What a checkout needs for `python -m fluz._codegen.generate --root <copy>`.
CODEGEN_INPUTS = (
    "pyproject.toml",
    "schema",
    "queries",
    "generated",
    "src/fluz/_codegen/scalars.py",
    "src/fluz/_codegen/money.py",
    "src/fluz/_codegen/call_options.py",
    "src/fluz/_codegen/base_classes.py",
)


@pytest.fixture(scope="session")
def schema() -> GraphQLSchema:
    """The schema as the codegen sees it: Fluz's, plus the client-only ``@required``."""
    fluz_schema = build_schema(SCHEMA_PATH.read_text(encoding="utf-8"))
    return FluzCodegenPlugin(fluz_schema, {}).process_schema(fluz_schema)


@pytest.fixture(scope="session")
def operations_document() -> DocumentNode:
    """Every .graphql file under queries/, parsed as one document (as ariadne-codegen does)."""
    sources = [path.read_text(encoding="utf-8") for path in sorted(QUERIES_DIR.rglob("*.graphql"))]
    return parse("\n".join(sources))


def copy_codegen_inputs(destination: Path) -> Path:
    """Copy what the generator reads and writes into ``destination``; return it."""
    for name in CODEGEN_INPUTS:
        source = REPO_ROOT / name
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copyfile(source, target)
    return destination


@pytest.fixture
def repo_copy(tmp_path: Path) -> Path:
    return copy_codegen_inputs(tmp_path / "repo")
