"""The ``fluz`` command line (console script ``fluz``, and ``python -m fluz``).

Commands for people who operate a Fluz integration: ``sandbox``, ``token``, ``merchants``,
``quote``, ``purchase``, ``reveal``, ``gift-cards``, ``purchases`` and ``wallet``. Run
``fluz --help`` for the list and the exit codes. ``import fluz`` does not import this
package.
"""

from ._app import main, run
from ._exit import ExitCode

__all__ = ["ExitCode", "main", "run"]
