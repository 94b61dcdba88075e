"""painting_while_reading: one thread paints and, while each coat dries, reads.
The Python program that demos/painting_while_reading.cpp mirrors; same options, same lines."""

import argparse
import asyncio
import time

from timeline import Timeline


def work(tl, actor, what, seconds):
    """A busy step: it holds the thread, as real work would."""
    start = tl.now_ms()
    time.sleep(seconds)
    tl.add(actor, what, start, True)


def run_sync(tl, p):
    for i in range(1, p.strokes + 1):
        work(tl, "painter", f"paints coat {i}", p.stroke)
        start = tl.now_ms()
        time.sleep(p.dry)  # blocking: the reader cannot start meanwhile
        tl.add("painter", f"waits for coat {i} to dry", start, False)
    for i in range(1, p.pages + 1):
        work(tl, "reader", f"reads page {i}", p.page)


async def paint(tl, p):
    for i in range(1, p.strokes + 1):
        work(tl, "painter", f"paints coat {i}", p.stroke)
        start = tl.now_ms()
        await asyncio.sleep(p.dry)  # a timer: the loop runs the reader meanwhile
        tl.add("painter", f"waits for coat {i} to dry", start, False)


async def read(tl, p):
    for i in range(1, p.pages + 1):
        work(tl, "reader", f"reads page {i}", p.page)
        await asyncio.sleep(0)


async def run_async(tl, p):
    painter = asyncio.create_task(paint(tl, p), name="painter")
    reader = asyncio.create_task(read(tl, p), name="reader")
    await asyncio.gather(painter, reader)


def show(title, p, is_async, width, ascii):
    print(f"== {title} ==")
    tl = Timeline()
    if is_async:
        asyncio.run(run_async(tl, p))
    else:
        run_sync(tl, p)
    tl.print_log()
    print()
    tl.print_chart(width, ascii)
    print(f"  total: {tl.total_ms():.0f} ms\n")
    return tl.total_ms()


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mode", choices=["sync", "async", "both"], default="both")
    parser.add_argument("--strokes", type=int, default=3, help="coats of paint (1-100)")
    parser.add_argument("--stroke-ms", type=int, default=200, help="time to paint one coat")
    parser.add_argument("--dry-ms", type=int, default=1000, help="time for a coat to dry")
    parser.add_argument("--pages", type=int, default=8, help="pages to read (0-1000)")
    parser.add_argument("--page-ms", type=int, default=250, help="time to read one page")
    parser.add_argument("--scale", type=float, default=0.5, help="multiplies every time")
    parser.add_argument("--width", type=int, default=80, help="timeline columns (20-200)")
    parser.add_argument("--ascii", action="store_true", help="draw with ASCII only")
    p = parser.parse_args()
    if not (1 <= p.strokes <= 100 and 0 <= p.pages <= 1000):
        parser.error("--strokes must be 1-100 and --pages 0-1000")
    if min(p.stroke_ms, p.dry_ms, p.page_ms) < 0 or not 0 < p.scale <= 100:
        parser.error("times must be >= 0 and --scale in (0, 100]")
    if not 20 <= p.width <= 200:
        parser.error("--width must be 20-200")
    # Whole milliseconds after scaling, as the C++ demo has them.
    p.stroke, p.dry, p.page = (int(v * p.scale) / 1e3 for v in (p.stroke_ms, p.dry_ms, p.page_ms))

    sync_ms = async_ms = 0
    if p.mode != "async":
        sync_ms = show("sync: blocking waits", p, False, p.width, p.ascii)
    if p.mode != "sync":
        async_ms = show("async: two tasks, one thread", p, True, p.width, p.ascii)
    painting = p.strokes * (p.stroke + p.dry) * 1e3
    busy = (p.strokes * p.stroke + p.pages * p.page) * 1e3
    print(f"Expected: sync = every step in a row = {painting + p.pages * p.page * 1e3:.0f} ms;\n"
          f"          async = painting alone = {painting:.0f} ms (or all busy steps, "
          f"{busy:.0f} ms, if more).")
    if p.mode == "both":
        print(f"Measured: sync {sync_ms:.0f} ms, async {async_ms:.0f} ms: "
              f"speed-up {sync_ms / max(async_ms, 1.0):.2f}x.")


if __name__ == "__main__":
    main()
