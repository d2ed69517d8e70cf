"""The ``strum`` command line (thin: parse, call the library, print).

The full command set (deploy, status, invoke, ...) arrives with the CLI issue; for now the
command reports its version and what exists.
"""

from __future__ import annotations

import argparse
import sys

from strum import __version__


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``strum`` console script."""
    parser = argparse.ArgumentParser(
        prog="strum",
        description="Run Python web apps and functions serverless (AWS Lambda or one machine).",
        epilog="Available today: the HTTP adapter (strum.make_handler) and the Lambda runtime "
        "(python -m strum.runtime). Deploy commands are not implemented yet.",
    )
    parser.add_argument("--version", action="version", version=f"strum {__version__}")
    parser.parse_args(argv)
    parser.print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())
