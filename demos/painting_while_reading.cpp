// Concurrency on one thread: while the paint dries, read.
//
// The same program in Python, as in the notes (runnable, printing the same lines:
// demos/python/painting_while_reading.py):
//
//   async def paint(strokes):
//       for i in range(strokes):
//           paint_stroke(i)                  # busy: hands on the brush
//           await asyncio.sleep(DRY)         # the paint dries by itself: free to do else
//
//   async def read(pages):
//       for p in range(pages):
//           read_page(p)                     # busy: eyes on the book
//           await asyncio.sleep(0)           # look up: has the coat dried?
//
//   asyncio.run(asyncio.gather(paint(3), read(8)))
//
// One thread is one person: busy steps never overlap, only waiting does. The sync version
// takes the same steps but waits for the paint by blocking, so nothing happens meanwhile.

#include <asyncio.hpp>

#include "support/cli.hpp"
#include "support/timeline.hpp"

#include <fmt/core.h>

#include <thread>

using ms = std::chrono::milliseconds;
using namespace std::chrono_literals;

namespace {

struct plan {
  int strokes, pages;
  ms stroke, dry, page;
  ms painting() const { return strokes * (stroke + dry); }
  ms busy() const { return strokes * stroke + pages * page; }
};

// A busy step: it holds the thread, as real work would.
void work(demo::timeline& tl, const char* actor, std::string what, ms d) {
  double start = tl.now_ms();
  std::this_thread::sleep_for(d);
  tl.add(actor, std::move(what), start, true);
}

void run_sync(demo::timeline& tl, const plan& p) {
  for (int i = 1; i <= p.strokes; ++i) {
    work(tl, "painter", fmt::format("paints coat {}", i), p.stroke);
    double start = tl.now_ms();
    std::this_thread::sleep_for(p.dry);  // blocking: the reader cannot start meanwhile
    tl.add("painter", fmt::format("waits for coat {} to dry", i), start, false);
  }
  for (int i = 1; i <= p.pages; ++i) work(tl, "reader", fmt::format("reads page {}", i), p.page);
}

asyncio::coroutine<void> paint(demo::timeline& tl, plan p) {
  for (int i = 1; i <= p.strokes; ++i) {
    work(tl, "painter", fmt::format("paints coat {}", i), p.stroke);
    double start = tl.now_ms();
    co_await asyncio::sleep(p.dry);  // a timer: the loop runs the reader meanwhile
    tl.add("painter", fmt::format("waits for coat {} to dry", i), start, false);
  }
}

asyncio::coroutine<void> read(demo::timeline& tl, plan p) {
  for (int i = 1; i <= p.pages; ++i) {
    work(tl, "reader", fmt::format("reads page {}", i), p.page);
    co_await asyncio::sleep(0s);
  }
}

asyncio::coroutine<void> run_async(demo::timeline& tl, plan p) {
  auto painter = asyncio::create_task(paint(tl, p), "painter");  // named for --trace
  auto reader = asyncio::create_task(read(tl, p), "reader");
  co_await asyncio::gather(painter, reader);
}

double show(const char* title, const plan& p, bool async, int width, bool ascii) {
  fmt::print("== {} ==\n", title);
  demo::timeline tl;
  if (async)
    asyncio::run(run_async(tl, p));
  else
    run_sync(tl, p);
  tl.print_log();
  fmt::print("\n");
  tl.print_chart(width, ascii);
  fmt::print("  total: {:.0f} ms\n\n", tl.total_ms());
  return tl.total_ms();
}

}  // namespace

int main(int argc, char** argv) {
  namespace po = demo::po;
  std::string mode;
  int strokes, pages, width;
  long stroke_ms, dry_ms, page_ms;
  double scale;
  po::options_description options("Options");
  // clang-format off
  options.add_options()
      ("mode", po::value(&mode)->default_value("both"), "sync, async or both")
      ("strokes", demo::number(&strokes, 1, 100)->default_value(3), "coats of paint (1-100)")
      ("stroke-ms", demo::number(&stroke_ms, 0L, 60'000L)->default_value(200), "time to paint one coat (0-60000)")
      ("dry-ms", demo::number(&dry_ms, 0L, 60'000L)->default_value(1000), "time for a coat to dry (0-60000)")
      ("pages", demo::number(&pages, 0, 1000)->default_value(8), "pages to read (0-1000)")
      ("page-ms", demo::number(&page_ms, 0L, 60'000L)->default_value(250), "time to read one page (0-60000)")
      ("scale", po::value(&scale)->default_value(0.5), "multiplies every time (0.1 = 10x faster; up to 10)")
      ("width", demo::number(&width, 20, 200)->default_value(80), "timeline columns (20-200)")
      ("ascii", "draw the timeline with ASCII only");
  // clang-format on
  auto vm = demo::parse(argc, argv,
                        "painting_while_reading: one thread paints and, while each coat dries, "
                        "reads.\nShows sync (blocking waits) against async (timer-driven tasks).",
                        options);
  if (mode != "sync" && mode != "async" && mode != "both")
    demo::usage_error(argv[0], "--mode must be sync, async or both, not '" + mode + "'");
  if (!(scale > 0 && scale <= 10)) demo::usage_error(argv[0], "--scale must be in (0, 10]");
  // The sync run does everything in turn: the longest either mode can take.
  const double longest_s = scale * double(strokes * (stroke_ms + dry_ms) + pages * page_ms) / 1000;
  if (longest_s > 3600)
    demo::usage_error(argv[0],
                      fmt::format("that run could take {:.0f} s; at most 3600", longest_s));

  auto scaled = [scale](long v) { return ms(static_cast<long>(v * scale)); };
  const plan p{strokes, pages, scaled(stroke_ms), scaled(dry_ms), scaled(page_ms)};
  const bool ascii = vm.count("ascii") > 0;

  double sync_ms = 0, async_ms = 0;
  if (mode != "async") sync_ms = show("sync: blocking waits", p, false, width, ascii);
  if (mode != "sync") async_ms = show("async: two tasks, one thread", p, true, width, ascii);

  fmt::print(
      "Expected: sync = every step in a row = {} ms;\n"
      "          async = painting alone = {} ms (or all busy steps, {} ms, if more).\n",
      (p.painting() + p.pages * p.page).count(), p.painting().count(), p.busy().count());
  if (mode == "both")
    fmt::print("Measured: sync {:.0f} ms, async {:.0f} ms: speed-up {:.2f}x.\n", sync_ms, async_ms,
               sync_ms / std::max(async_ms, 1.0));
}
