"""``python -m strum``: the same as the ``strum`` command."""

import sys

from strum.cli import main

sys.exit(main())
