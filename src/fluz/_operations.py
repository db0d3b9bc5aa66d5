"""What the client needs to know about an operation, read from its GraphQL text once.

The generated methods hand ``execute()`` the operation text; from it we learn whether it
is a mutation, which root fields it selects (deciding Basic or Bearer auth) and the
declared type of each variable (driving client-side validation). Results are cached per
text, so the scan runs once per operation per process. No GraphQL parser is needed at
run time: operation texts are our own generated ones, and the scanner handles the subset
of the grammar they use (plus comments, strings, aliases and directives).
"""

from __future__ import annotations

import re

from . import _constants as C

_TOKEN = re.compile(r'"""(?:.|\n)*?"""|"(?:\\.|[^"\\])*"|\.\.\.|[_A-Za-z]\w*|[^\s,]')
_COMMENT = re.compile(r"#[^\n]*")


class OperationInfo:
    """One operation, cached per text and shared: never changed after it is made. (A plain
    class: a frozen dataclass costs `import fluz` about 1 ms to create.)"""

    __slots__ = (
        "is_mutation",
        "name",
        "retry_safe_without_key",
        "root_fields",
        "uses_basic_auth",
        "variable_types",
    )

    def __init__(
        self,
        name: str,
        is_mutation: bool,
        root_fields: tuple[str, ...],
        variable_types: dict[str, str] | None = None,  # name -> "UUID!", "[X!]!"
    ) -> None:
        self.name = name
        self.is_mutation = is_mutation
        self.root_fields = root_fields
        self.variable_types = {} if variable_types is None else variable_types
        # App-level operation: sent with the API key rather than a user token.
        self.uses_basic_auth = bool(root_fields) and all(
            f in C.BASIC_AUTH_FIELDS for f in root_fields
        )
        # Retrying cannot repeat a side effect: a query, or a read-like mutation.
        self.retry_safe_without_key = not is_mutation or all(
            f in C.RETRY_SAFE_MUTATIONS for f in root_fields
        )


_cache: dict[str, OperationInfo] = {}


def operation_info(query: str, operation_name: str | None = None) -> OperationInfo:
    """Describe the operation named *operation_name* in *query* (the first one if None)."""
    info = _cache.get(query)
    if info is None or (operation_name is not None and info.name != operation_name):
        info = _scan(query, operation_name)
        if len(_cache) < 4096:  # generated operations are few; bound custom ones
            _cache[query] = info
    return info


def _scan(query: str, operation_name: str | None) -> OperationInfo:
    tokens = _TOKEN.findall(_COMMENT.sub("", query))
    i = 0
    first: OperationInfo | None = None
    while i < len(tokens):
        kind = "query"
        name = ""
        if tokens[i] in ("query", "mutation", "subscription"):
            kind = tokens[i]
            i += 1
            if i < len(tokens) and tokens[i] not in ("(", "{", "@"):
                name = tokens[i]
                i += 1
        elif tokens[i] == "fragment":
            i = _skip_until_block_end(tokens, i)
            continue
        elif tokens[i] != "{":
            i += 1
            continue
        variables: dict[str, str] = {}
        if i < len(tokens) and tokens[i] == "(":
            i = _read_variables(tokens, i, variables)
        while i < len(tokens) and tokens[i] != "{":
            i += 1  # directives
        roots, i = _read_root_fields(tokens, i)
        info = OperationInfo(name or operation_name or "", kind == "mutation", roots, variables)
        if operation_name is None or name == operation_name:
            return info
        first = first or info
    return first or OperationInfo(operation_name or "", False, ())


def _read_variables(tokens: list[str], i: int, out: dict[str, str]) -> int:
    """Read ``($a: T!, $b: [U] = default)`` starting at ``(``; return the index after ``)``."""
    i += 1
    while i < len(tokens) and tokens[i] != ")":
        if tokens[i] == "$" and i + 2 < len(tokens) and tokens[i + 2] == ":":
            out[tokens[i + 1]], i = _read_type(tokens, i + 3)
        elif tokens[i] in ("[", "{"):
            i = _skip_balanced(tokens, i)  # a default value
        else:
            i += 1
    return i + 1


def _read_type(tokens: list[str], i: int) -> tuple[str, int]:
    if i >= len(tokens):
        return "", i
    if tokens[i] == "[":
        inner, i = _read_type(tokens, i + 1)
        text = f"[{inner}]"
        i += 1  # "]"
    else:
        text = tokens[i]
        i += 1
    if i < len(tokens) and tokens[i] == "!":
        return text + "!", i + 1
    return text, i


def _read_root_fields(tokens: list[str], i: int) -> tuple[tuple[str, ...], int]:
    """Read the top-level selections of the block opening at ``tokens[i] == "{"``."""
    roots: list[str] = []
    i += 1
    while i < len(tokens) and tokens[i] != "}":
        tok = tokens[i]
        if tok == "...":
            i = _skip_selection(tokens, i + 2)
            continue
        if tok in ("(", "{"):
            i = _skip_balanced(tokens, i)
            continue
        if tok == "@":
            i += 2
            continue
        if i + 2 < len(tokens) and tokens[i + 1] == ":":
            tok = tokens[i + 2]  # alias: field
            i += 2
        roots.append(tok)
        i = _skip_selection(tokens, i + 1)
    return tuple(roots), i + 1


def _skip_selection(tokens: list[str], i: int) -> int:
    """Skip the arguments, directives and sub-selection that follow a field name."""
    while i < len(tokens) and tokens[i] in ("(", "{", "@"):
        i = i + 2 if tokens[i] == "@" else _skip_balanced(tokens, i)
    return i


def _skip_balanced(tokens: list[str], i: int) -> int:
    opening = tokens[i]
    closing = {"(": ")", "{": "}", "[": "]"}[opening]
    depth = 0
    while i < len(tokens):
        if tokens[i] == opening:
            depth += 1
        elif tokens[i] == closing:
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return i


def _skip_until_block_end(tokens: list[str], i: int) -> int:
    while i < len(tokens) and tokens[i] != "{":
        i += 1
    return _skip_balanced(tokens, i) if i < len(tokens) else i
