"""``python -m fluz.sandbox``: see ``fluz.sandbox._cli``."""

from ._cli import main

if __name__ == "__main__":
    raise SystemExit(main())
