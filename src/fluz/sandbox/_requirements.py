"""Versions the sandbox needs from its dependencies, checked when the server parts load.

Imported (for this check) by ``_runner`` before anything imports from graphql-core, so an
incompatible release fails with a message that says what is wrong and how to fix it,
instead of ``ImportError: cannot import name 'ExecutionContext'`` from deep inside.
"""

from __future__ import annotations

import graphql

# [lowest, first excluded): the range of the ``sandbox`` extra in pyproject.toml.
# graphql-core 3.3 removed/renamed the execution API the server uses (ExecutionContext,
# execute(..., execution_context_class=)); ariadne itself allows < 3.4, so pip may pick
# 3.3 unless the extra pins it.
GRAPHQL_CORE_RANGE = ((3, 2, 7), (3, 3, 0))


class SandboxDependencyError(ImportError):
    """An installed dependency of the sandbox has a version it cannot run with."""


def check_graphql_core(version: tuple[int, int, int] | None = None) -> None:
    """Raise :class:`SandboxDependencyError` when graphql-core is outside the supported range.

    *version* defaults to the installed one (given explicitly by tests).
    """
    if version is None:
        info = graphql.version_info
        version = (info.major, info.minor, info.micro)
    lowest, excluded = GRAPHQL_CORE_RANGE
    if lowest <= version < excluded:
        return
    found = ".".join(map(str, version))
    wanted = f">={'.'.join(map(str, lowest))},<{'.'.join(map(str, excluded[:2]))}"
    raise SandboxDependencyError(
        f"the Fluz sandbox needs graphql-core{wanted}, but {found} is installed. "
        f"Install a compatible release: pip install 'graphql-core{wanted}' "
        "(installing 'fluz-client[sandbox]' into a fresh environment picks one)."
    )


check_graphql_core()
