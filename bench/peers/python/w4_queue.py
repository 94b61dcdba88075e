"""W4: two tasks pass a token back and forth N times through two asyncio.Queue(1)s."""

import asyncio
import time

from common import check, main


async def ping(out, back, n):
    for i in range(n):
        await out.put(i)
        token = await back.get()
        if token != i:  # the message only on failure: formatting costs more than a handoff
            check(False, f"token {i} came back as {token}")


async def pong(into, out, n):
    for _ in range(n):
        await out.put(await into.get())


async def amain(n):
    there, back = asyncio.Queue(1), asyncio.Queue(1)
    start = time.perf_counter()
    await asyncio.gather(ping(there, back, n), pong(there, back, n))
    return (time.perf_counter() - start) * 1e9 / (2 * n)


if __name__ == "__main__":
    main("W4", "ns/handoff", __doc__, amain)
