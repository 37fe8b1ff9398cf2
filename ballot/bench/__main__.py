"""``python -m ballot.bench crypto [--repeat N] [--json PATH]``."""

from __future__ import annotations

import argparse
import json
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ballot.bench", description="ballot benchmarks (measured, printed)")
    sub = parser.add_subparsers(dest="command", required=True)
    crypto = sub.add_parser(
        "crypto", help="ballot encryption, proofs, key ceremony and tally vs. the alternative")
    crypto.add_argument("--repeat", type=int, default=3,
                        help="runs per measurement; the median is printed (default 3)")
    crypto.add_argument("--json", metavar="PATH", help="also write every measurement as JSON")
    crypto.add_argument("--units", type=int, default=100, help="units on the big ballot (100)")
    crypto.add_argument("--voters", type=int, default=100,
                        help="eligible voters; the radix is voters + 1 (100)")
    args = parser.parse_args(argv)

    if args.command == "crypto":
        if args.repeat < 1 or args.units < 1 or args.voters < 1:
            parser.error("--repeat, --units and --voters must be positive")
        from .crypto import format_report, run

        results = run(repeat=args.repeat, units=args.units, voters=args.voters,
                      progress=lambda msg: print(msg, file=sys.stderr, flush=True))
        print(format_report(results))
        if args.json:
            with open(args.json, "w", encoding="utf-8") as fh:
                json.dump(results, fh, indent=2, sort_keys=True)
                fh.write("\n")
        return 0
    return 2  # pragma: no cover - argparse requires a command


if __name__ == "__main__":
    sys.exit(main())
