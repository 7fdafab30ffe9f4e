"""The ``aadap`` command (also ``python -m aadap``)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from aadap import _core

__all__ = ["main"]


def _doctor(args: argparse.Namespace) -> int:
    from aadap.doctor import doctor

    report = doctor(timeout=args.timeout)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print(report)
    return 0 if report.ok else 1


def _demo(args: argparse.Namespace) -> int:
    from aadap.demo import run_demo
    from aadap.log import set_log_level

    set_log_level("WARNING")  # the demo prints its own story; refusals are expected in it
    run_demo(args.database)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aadap", description="Governed execution engine for AI data engineering."
    )
    parser.add_argument("--version", action="version", version=f"aadap {_core.__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    doctor = commands.add_parser(
        "doctor",
        help="show versions and effective settings, check that the store is reachable",
    )
    doctor.add_argument("--json", action="store_true", help="print the report as JSON")
    doctor.add_argument(
        "--timeout", type=float, default=5.0, help="seconds to wait for the store (default 5)"
    )
    doctor.set_defaults(handler=_doctor)
    demo = commands.add_parser(
        "demo", help="drive six tasks through the governed lifecycle, offline, in seconds"
    )
    demo.add_argument(
        "--database", help="keep the store in this SQLite file (default: a temporary one)"
    )
    demo.set_defaults(handler=_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = _parser().parse_args(argv)
    code: int = args.handler(args)
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
