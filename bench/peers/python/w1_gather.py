"""W1: spawn N tasks that each yield to the loop once and return an int; gather them all."""

import asyncio
import time

from common import check, main


async def yield_once(i):
    await asyncio.sleep(0)
    return i


async def amain(n):
    start = time.perf_counter()
    tasks = [asyncio.create_task(yield_once(i)) for i in range(n)]
    results = await asyncio.gather(*tasks)
    rate = n / (time.perf_counter() - start)
    check(sum(results) == n * (n - 1) // 2, f"the values sum to {sum(results)}")
    return rate


if __name__ == "__main__":
    main("W1", "tasks/s", __doc__, amain)
