"""``python -m sandbox serve`` is the same as ``campaign-sandbox serve``."""

import sys

from .cli import main

sys.exit(main())
