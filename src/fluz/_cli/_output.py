"""Rendering: tables, JSON documents, masked secrets, the reveal progress line, errors."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from .._errors import FluzError
from .._poll import PollProgress
from ._exit import exit_code_for


@dataclass(frozen=True, slots=True)
class Result:
    """What a command produced: a JSON-able document for ``--json``, text for people."""

    data: dict[str, Any]
    text: str


@dataclass(frozen=True, slots=True)
class Console:
    """Where a command writes besides its Result: progress (stderr) and partial output."""

    stdout: TextIO
    stderr: TextIO
    as_json: bool

    def partial(self, text: str) -> None:
        """Print *text* now, before the command finishes (text mode only: ``--json`` prints
        one document at the end)."""
        if not self.as_json:
            self.stdout.write(text + "\n")
            self.stdout.flush()


def dump(model: Any) -> Any:
    """A generated model (or list of them) as JSON-able data with the API's field names."""
    if isinstance(model, list):
        return [dump(item) for item in model]
    return None if model is None else model.model_dump(mode="json", by_alias=True)


def write_result(result: Result, stream: TextIO, *, as_json: bool) -> None:
    stream.write(json.dumps(result.data, indent=2) + "\n" if as_json else result.text + "\n")


def write_error(error: FluzError, stream: TextIO, *, as_json: bool) -> None:
    """Report *error*: a ``{"error": {...}}`` document, or ``error: ...`` plus any hints.

    Exception messages are redacted by the client, so they are safe to print."""
    hints = [str(note) for note in getattr(error, "__notes__", ())]
    if as_json:
        document = {
            "error": {
                "type": type(error).__name__,
                "code": error.code,
                "message": error.message,
                "operation": error.operation,
                "requestId": error.request_id,
                "idempotencyKey": error.idempotency_key,
                "exitCode": int(exit_code_for(error)),
                "hints": hints,
            }
        }
        stream.write(json.dumps(document, indent=2) + "\n")
        return
    stream.write(f"error: {type(error).__name__}: {error}\n")
    for hint in hints:
        stream.write(f"hint: {hint}\n")


def table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """Left-aligned columns; None shows as ``-``."""
    cells = [list(headers)] + [["-" if c is None else str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in cells
    )


def fields(pairs: Iterable[tuple[str, object]], indent: str = "  ") -> str:
    """``name  value`` lines with the values aligned; None shows as ``-``."""
    pairs = list(pairs)
    width = max((len(name) for name, _ in pairs), default=0)
    return "\n".join(
        f"{indent}{name.ljust(width)}  {'-' if value is None else value}" for name, value in pairs
    )


def money(value: object) -> str:
    if value is None:
        return "-"
    try:
        return f"${float(str(value)):,.2f}"
    except ValueError:
        return str(value)


def masked(value: str | None, *, show: bool) -> str | None:
    """A gift-card secret for display: as is with ``show``, else only its last 4 characters
    (when at least 8 long, so short PINs stay fully hidden)."""
    if value is None or show:
        return value
    return "*" * 8 + value[-4:] if len(value) >= 8 else "****"


class RevealProgress:
    """The reveal poller's progress, on *stream* (stderr): one line rewritten in place on a
    terminal, one line per poll otherwise (logs, pipes, tests)."""

    def __init__(self, stream: TextIO, label: str) -> None:
        self._stream = stream
        self._label = label
        self._live = stream.isatty()
        self._open_line = False

    def __call__(self, progress: PollProgress) -> None:
        if progress.done:
            state = f"ready after {progress.elapsed:.2f}s"
        elif progress.next_delay is None:
            state = f"not ready, deadline reached after {progress.elapsed:.2f}s"
        else:
            state = (
                f"not ready, next poll in {progress.next_delay:.2f}s "
                f"(elapsed {progress.elapsed:.2f}s)"
            )
        text = f"{self._label}: poll {progress.attempt} {state}"
        if self._live:
            self._stream.write("\r\033[K" + text)  # back to column 0, clear the line
            self._open_line = True
            if progress.next_delay is None:
                self.close()
        else:
            self._stream.write(text + "\n")
        self._stream.flush()

    def close(self) -> None:
        """End an in-place line (also when polling stopped with an error)."""
        if self._open_line:
            self._stream.write("\n")
            self._stream.flush()
            self._open_line = False
