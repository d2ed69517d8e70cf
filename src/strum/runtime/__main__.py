"""``python -m strum.runtime [module.function]``: the bootstrap of every strum function."""

import sys

from strum.runtime._bootstrap import main

if __name__ == "__main__":
    sys.exit(main())
