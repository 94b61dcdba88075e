"""W3: memory per task while N tasks wait on a timer (resident bytes / N)."""

import asyncio

from common import check, main, rss_bytes

parked = 0


async def park():
    global parked
    parked += 1
    await asyncio.sleep(3600)


async def amain(n):
    tasks = [None] * n  # the caller's list, allocated before measuring (as the C++ side does)
    before = rss_bytes()
    for i in range(n):
        tasks[i] = asyncio.create_task(park())
    await asyncio.sleep(0)  # every task starts and parks on its timer
    per_task = (rss_bytes() - before) / n
    check(parked == n, f"{parked} of {n} tasks parked")
    for t in tasks:
        t.cancel()
    ends = await asyncio.gather(*tasks, return_exceptions=True)
    check(all(isinstance(e, asyncio.CancelledError) for e in ends), "every task cancelled")
    return per_task


if __name__ == "__main__":
    main("W3", "bytes/task", __doc__, amain)
