"""W2: N tasks each sleeping 100 ms at once; the figure is the time beyond the 100 ms."""

import asyncio
import time

from common import check, main


async def amain(n):
    start = time.perf_counter()
    tasks = [asyncio.create_task(asyncio.sleep(0.1, 1)) for _ in range(n)]
    woke = await asyncio.gather(*tasks)
    overhead_ms = (time.perf_counter() - start - 0.1) * 1e3
    check(sum(woke) == n, f"{sum(woke)} of {n} sleepers woke")
    return overhead_ms


if __name__ == "__main__":
    main("W2", "ms over 100 ms", __doc__, amain)
