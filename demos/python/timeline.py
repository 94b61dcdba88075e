"""What happened when, by whom: the Python twin of demos/timeline.hpp, printing the same lines."""

import time


class Timeline:
    def __init__(self):
        self.origin = time.perf_counter()
        self.spans = []  # (actor, what, start_ms, end_ms, busy)

    def now_ms(self):
        return (time.perf_counter() - self.origin) * 1e3

    def add(self, actor, what, start_ms, busy):
        """A span of `actor` doing `what` from start_ms to now."""
        self.spans.append((actor, what, start_ms, self.now_ms(), busy))

    def total_ms(self):
        return max((s[3] for s in self.spans), default=0)

    def print_log(self):
        """One line per span, in start order: "  200 ms  reader   reads page 1 (150 ms)"."""
        for actor, what, start, end, _ in sorted(self.spans, key=lambda s: s[2]):
            print(f"  {start:>6.0f} ms  {actor:<8} {what} ({end - start:.0f} ms)")

    def print_chart(self, width, ascii):
        """Rows of `width` columns: solid = busy, light = waiting, blank = idle."""
        total = max(self.total_ms(), 1.0)
        per_column = total / width
        solid, light = ("#", ".") if ascii else ("\u2588", "\u2591")
        print(f"  {'':<8} 0 ms{total:>{width - 4}.0f} ms")
        for actor in dict.fromkeys(s[0] for s in self.spans):
            cell = [0] * width
            for who, _, start, end, busy in self.spans:
                if who != actor:
                    continue
                first = min(max(int(start / per_column), 0), width - 1)
                last = min(max(int(end / per_column), first + 1), width)
                for c in range(first, last):
                    cell[c] = max(cell[c], 2 if busy else 1)
            row = "".join(solid if c == 2 else light if c == 1 else " " for c in cell)
            print(f"  {actor:<8}|{row}|")
        print(f"  {'':<8} {solid} working   {light} waiting   (1 column = {per_column:.2g} ms)")
