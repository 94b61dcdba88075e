"""coroutine_object: calling an async function makes a coroutine object and runs nothing;
its result is read by awaiting it or by handing it to the event loop.
The Python program that demos/coroutine_object.cpp mirrors; same options, same lines."""

import argparse
import asyncio
import sys

delay = 0.1


async def add(a, b):
    print(f"    add({a}, {b}) runs")
    await asyncio.sleep(delay)
    print(f"    add({a}, {b}) returns {a + b}")
    return a + b


async def await_it(coro):
    print("  main() awaits the coroutine object")
    return await coro


def main():
    global delay
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--a", type=int, default=1, help="first number")
    parser.add_argument("--b", type=int, default=2, help="second number")
    parser.add_argument("--delay-ms", type=int, default=100, help="how long add() awaits (0-60000)")
    args = parser.parse_args()
    if not 0 <= args.delay_ms <= 60_000:
        parser.error("--delay-ms must be 0-60000")
    delay = args.delay_ms / 1e3
    a, b = args.a, args.b

    print(f"1. coro = add({a}, {b})")
    coro = add(a, b)
    print(f"  nothing ran: coro is a coroutine object ({sys.getsizeof(coro)} bytes, "
          f"frame not started)\n")

    print("2. asyncio::run(main()), where main() does co_await coro")
    first = asyncio.run(await_it(coro))
    print(f"  result: {first}\n")

    print(f"3. loop.run_until_complete(add({a + 2}, {b + 2}))")
    loop = asyncio.new_event_loop()
    second = loop.run_until_complete(add(a + 2, b + 2))
    loop.close()
    print(f"  result: {second}")


if __name__ == "__main__":
    main()
