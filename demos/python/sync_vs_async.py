"""sync_vs_async: the same I/O-bound jobs (timer waits) run sequentially, a thread per job, on a
thread pool, async on one thread, and async with a blocking call inside (the trap).
The Python program that demos/sync_vs_async.cpp mirrors (its timer jobs); same table. Each way
runs in a fresh process, so its CPU time and peak RSS are its own."""

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor


def job(delay):
    time.sleep(delay)


async def ajob(delay):
    await asyncio.sleep(delay)


async def trap(delay):
    time.sleep(delay)  # blocks the loop's only thread


def run_way(way, jobs, delay, pool):
    if way == "sequential":
        for _ in range(jobs):
            job(delay)
    elif way == "threads":
        threads = [threading.Thread(target=job, args=(delay,)) for _ in range(jobs)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    elif way == "pool":
        with ThreadPoolExecutor(pool) as executor:
            list(executor.map(job, [delay] * jobs))
    elif way == "async":
        asyncio.run(gather(ajob, jobs, delay))
    else:
        asyncio.run(gather(trap, jobs, delay))


async def gather(coro, jobs, delay):
    await asyncio.gather(*(coro(delay) for _ in range(jobs)))


WAYS = [("sequential", "sequential (blocking)"), ("threads", "thread per job"),
        ("pool", "thread pool ({})"), ("async", "async, one thread"),
        ("trap", "async + blocking call")]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=50, help="jobs per run (1-10000)")
    parser.add_argument("--delay-ms", type=int, default=50, help="each job's wait (1-10000)")
    parser.add_argument("--pool", type=int, default=4, help="threads in the pool (1-1000)")
    parser.add_argument("--way", choices=[w for w, _ in WAYS], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not (1 <= args.jobs <= 10_000 and 1 <= args.delay_ms <= 10_000 and 1 <= args.pool <= 1000):
        parser.error("--jobs must be 1-10000, --delay-ms 1-10000, --pool 1-1000")
    delay = args.delay_ms / 1e3

    if args.way:  # one way, in this fresh process: wall, CPU, peak RSS as JSON
        start = time.perf_counter()
        run_way(args.way, args.jobs, delay, args.pool)
        wall = time.perf_counter() - start
        usage = resource.getrusage(resource.RUSAGE_SELF)
        print(json.dumps({"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime,
                          "peak_rss": usage.ru_maxrss * 1024}))
        return

    print(f"\ntimer jobs: {args.jobs} of them, each {args.delay_ms} ms "
          f"(sum of the job times: {args.jobs * args.delay_ms} ms)")
    print(f"  {'way':<24} {'wall':>10} {'CPU':>10} {'peak RSS':>10} {'speed-up':>10}")
    sequential_wall = None
    for way, label in WAYS:
        out = subprocess.run([sys.executable, __file__, "--jobs", str(args.jobs), "--delay-ms",
                              str(args.delay_ms), "--pool", str(args.pool), "--way", way],
                             check=True, capture_output=True, text=True).stdout
        r = json.loads(out)
        sequential_wall = sequential_wall or r["wall_s"]
        wall = f"{r['wall_s'] * 1e3:.0f} ms"
        cpu = f"{r['cpu_s'] * 1e3:.1f} ms"
        rss = f"{r['peak_rss'] / 2**20:.1f} MiB"
        speed = f"{sequential_wall / r['wall_s']:.1f}x"
        print(f"  {label.format(args.pool):<24} {wall:>10} {cpu:>10} {rss:>10} {speed:>10}")
    print("\nSequential takes the sum of the job times; a thread per job and async take about one\n"
          "job's time, async on a single thread; the pool, jobs/pool rounds. A blocking call inside\n"
          "a coroutine stops the loop's only thread: as slow as sequential.")


if __name__ == "__main__":
    main()
