"""The README cannot drift: its Python blocks run against the sandbox, its CLI lines parse.

A ```python block runs as is, top-level ``await`` allowed (compiled like ``python -m
asyncio`` does), in a fresh namespace, with FLUZ_* pointing at the sandbox, on asyncio and
trio. A block preceded by ``<!-- readme: pytest -->`` is a test file: it is written to a
temporary directory and run by pytest in a subprocess, as a user's suite would be.
``<!-- readme: skip -->`` marks a block that must not run (none today; keep them few).
"""

from __future__ import annotations

import ast
import inspect
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from fluz._cli import ExitCode
from fluz._cli._parser import SUBCOMMANDS, build_parser
from fluz._cli._webhooks import build_parser as webhooks_parser
from fluz.sandbox import SandboxServer

README = Path(__file__).resolve().parents[1] / "README.md"
FENCE = re.compile(
    r"^(?:<!-- readme: (?P<mode>\w+) -->\n)?```(?P<lang>\w*)\n(?P<code>.*?)^```$",
    re.MULTILINE | re.DOTALL,
)


@dataclass(frozen=True)
class Block:
    line: int  # of the first code line, 1-based
    lang: str
    mode: str
    code: str

    def __str__(self) -> str:
        return f"README.md:{self.line}"


def blocks() -> list[Block]:
    text = README.read_text()
    found = []
    for match in FENCE.finditer(text):
        line = text.count("\n", 0, match.start("code")) + 1
        found.append(Block(line, match["lang"], match["mode"] or "run", match["code"]))
    return found


PYTHON = [b for b in blocks() if b.lang == "python"]


@pytest.fixture
def sandbox_environ(fluz_sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLUZ_URL", fluz_sandbox.url)
    monkeypatch.setenv("FLUZ_API_KEY", fluz_sandbox.api_key)
    monkeypatch.setenv("FLUZ_USER_ID", fluz_sandbox.user_id)
    monkeypatch.setenv("FLUZ_ACCOUNT_ID", fluz_sandbox.account_id)
    monkeypatch.setenv("FLUZ_OAUTH_URL", fluz_sandbox.base_url)
    monkeypatch.setenv("FLUZ_OAUTH_CLIENT_ID", fluz_sandbox.credentials.oauth_client_id)
    monkeypatch.setenv("FLUZ_OAUTH_APP_SECRET", fluz_sandbox.credentials.oauth_app_secret)
    for name in ("FLUZ_ENVIRONMENT", "FLUZ_SEAT_ID", "FLUZ_SCOPES"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.anyio
@pytest.mark.fluz_sandbox(reveal_delay=0.1)
@pytest.mark.parametrize("block", [b for b in PYTHON if b.mode == "run"], ids=str)
async def test_python_block_runs(block: Block, sandbox_environ: None) -> None:
    # Padding keeps the README's line numbers in tracebacks.
    source = "\n" * (block.line - 1) + block.code
    code = compile(source, str(README), "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    outcome = eval(code, {"__name__": "readme"})
    if inspect.iscoroutine(outcome):
        await outcome


@pytest.mark.parametrize("block", [b for b in PYTHON if b.mode == "pytest"], ids=str)
def test_pytest_block_passes(block: Block, tmp_path: Path) -> None:
    (tmp_path / "test_from_readme.py").write_text(block.code)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_from_readme.py"],
        cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if not k.startswith("FLUZ_")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert " passed" in done.stdout.splitlines()[-1]


EXAMPLES = README.parent / "examples"
_WRAPPER = "async def _readme_block() -> None:  # top-level await, as the blocks run\n"


def test_python_blocks_and_examples_type_check_under_mypy_strict(tmp_path: Path) -> None:
    """What a user's ``mypy --strict`` says about code copied from the README or examples/.

    A block that runs with top-level ``await`` is checked as the body of an async function
    (mypy rejects ``async with`` outside one); pytest blocks are checked as the modules they
    are. Errors are reported at their README line.
    """
    origin: dict[str, tuple[int, int]] = {}  # file name -> (first README line, line offset)
    for block in PYTHON:
        name = f"readme_line_{block.line}.py"
        if block.mode == "run":
            body = "".join(f"    {line}\n" if line else "\n" for line in block.code.splitlines())
            (tmp_path / name).write_text(_WRAPPER + body)
            origin[name] = (block.line, 1)
        else:
            (tmp_path / name).write_text(block.code)
            origin[name] = (block.line, 0)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-error-summary",
            "--config-file=/dev/null",  # a user's mypy: not our project's configuration
            f"--cache-dir={tmp_path / '.mypy_cache'}",
            str(tmp_path),
            str(EXAMPLES),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )

    def locate(line: str) -> str:
        match = re.match(r"(?P<path>[^:]+):(?P<line>\d+):(?P<rest>.*)", line)
        if not match or Path(match["path"]).name not in origin:
            return line
        first, offset = origin[Path(match["path"]).name]
        return f"README.md:{first + int(match['line']) - 1 - offset}:{match['rest']}"

    errors = [locate(line) for line in done.stdout.splitlines() if line.strip()]
    assert errors == [], "\n".join(errors)
    assert done.returncode == 0, done.stderr


def test_blocks_are_recognised_and_few_are_skipped() -> None:
    modes = [b.mode for b in PYTHON]
    assert set(modes) <= {"run", "pytest", "skip"}
    assert modes.count("run") >= 8
    assert modes.count("skip") <= 2


def test_quickstart_commands_come_first() -> None:
    first = blocks()[0]
    assert first.code.split() == ["make", "demo", "make", "test"]


def test_cli_lines_parse_with_the_real_parser() -> None:
    lines = [
        line.split("#")[0].strip()[2:]
        for block in blocks()
        if block.lang == "console"
        for line in block.code.splitlines()
        if line.startswith("$ fluz ")
    ]
    assert len(lines) >= 8
    parser = build_parser()
    for line in lines:
        argv = shlex.split(line)[1:]
        if argv[0] == "sandbox":
            continue  # the sandbox's own parser; `fluz sandbox --help` is tested in test_cli
        if argv[0] == "webhooks":
            webhooks_parser().parse_args(argv[1:])  # its own parser, like the sandbox's
            continue
        args = parser.parse_args(argv)  # exits (fails the test) on a flag that does not exist
        assert args.command in SUBCOMMANDS


def test_every_command_and_exit_code_is_documented() -> None:
    text = README.read_text()
    for command in SUBCOMMANDS:
        assert f"$ fluz {command}" in text or f"fluz --json {command}" in text, command
    for code in ExitCode:
        assert re.search(rf"^\| {int(code)} \| \w", text, re.MULTILINE), code
