"""``python -m fluz``: the ``fluz`` command line."""

from fluz._cli import main

raise SystemExit(main())
