"""``python -m skae.compare``: the command line of :mod:`skae.compare.cli`."""

import sys

from .cli import main

if __name__ == "__main__":  # not on import (pytest's doctest collection imports it)
    sys.exit(main())
