"""``python -m sandbox serve`` is the same as ``campaign-sandbox serve``."""

import sys

from sandbox.cli import main

sys.exit(main())
