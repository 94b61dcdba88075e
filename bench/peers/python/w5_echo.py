"""W5: 50 clients x N echo round trips over loopback, server on the same loop (streams)."""

import asyncio
import time

from common import check, main

CLIENTS = 50
MESSAGE = b"a line of an echo benchmark\n"


async def echo_session(reader, writer):
    while line := await reader.readline():
        writer.write(line)
        await writer.drain()
    writer.close()


async def echo_client(port, trips):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    echoed = 0
    for _ in range(trips):
        writer.write(MESSAGE)
        await writer.drain()
        line = await reader.readline()
        check(line == MESSAGE, "an echoed line differs from the one sent")
        echoed += len(line)
    writer.close()
    await writer.wait_closed()
    return echoed


async def amain(trips):
    server = await asyncio.start_server(echo_session, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    start = time.perf_counter()
    echoed = await asyncio.gather(*(echo_client(port, trips) for _ in range(CLIENTS)))
    us = (time.perf_counter() - start) * 1e6 / (CLIENTS * trips)
    check(sum(echoed) == CLIENTS * trips * len(MESSAGE), f"{sum(echoed)} bytes echoed")
    server.close()
    await server.wait_closed()
    return us


if __name__ == "__main__":
    main("W5", "us/round trip", __doc__, amain)
