"""`python -m furu_server`: the same commands as `furu-dashboard`."""

from __future__ import annotations

import sys

from furu_server._cli import main

if __name__ == "__main__":
    sys.exit(main())
