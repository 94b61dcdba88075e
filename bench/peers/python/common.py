"""What every Python peer of `compare` shares: the loop it runs on (asyncio's own or uvloop),
its size from the command line, its result checked, and one JSON line on stdout."""

import argparse
import asyncio
import json
import os
import sys


def check(ok, what):
    """A wrong result fails the run: it is never reported as a time."""
    if not ok:
        sys.exit(f"wrong result: {what}")


def rss_bytes():
    """Resident memory, read as the C++ and node peers read it."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def main(workload, unit, description, amain):
    """Parses `N [--loop asyncio|uvloop]`, runs amain(n) on that loop, prints its figure."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("n", type=int, help="the workload's size")
    parser.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio")
    args = parser.parse_args()
    if not 1 <= args.n <= 10_000_000:
        parser.error("n must be 1-10000000")
    if args.loop == "uvloop":
        import uvloop  # Debian 12 ships 0.17, before uvloop.run()

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    value = asyncio.run(amain(args.n))
    peer = "uvloop" if args.loop == "uvloop" else "python-asyncio"
    print(json.dumps({"peer": peer, "workload": workload, "n": args.n, "value": value, "unit": unit}))
