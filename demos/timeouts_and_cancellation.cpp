// Timeouts and cancellation with Python's rules, told as a short story.
//
// The same program in Python:
//
//   try:
//       await asyncio.wait_for(slow_download(), timeout=0.2)  # cancels it, waits for cleanup
//   except TimeoutError: ...
//   async with asyncio.timeout(0.1) as cm:                     # a scope, pushed back once
//       cm.reschedule(loop.time() + 0.3); await work(0.2)
//   t.cancel("user pressed stop")                 # CancelledError("user pressed stop")
//   await asyncio.shield(save)                    # cancels the waiter, not the save
//   async with asyncio.TaskGroup() as tg:         # one child fails: the others are cancelled
//       tg.create_task(ok(1)); tg.create_task(fails()); ...

#include <asyncio.hpp>

#include "support/cli.hpp"
#include "support/timeline.hpp"

#include <fmt/core.h>

namespace {

using ms = std::chrono::milliseconds;

demo::timeline* story;  // when things happened, for every line and the chart
double scale = 1;

ms scaled(long v) { return ms(static_cast<long>(v * scale)); }

void say(const std::string& what) { fmt::print("  [{:>5.0f} ms] {}\n", story->now_ms(), what); }

// Works for `d`; when cancelled, says so, cleans up (an await, as Python allows) and re-raises.
asyncio::coroutine<int> work(std::string name, ms d, int result) {
  double start = story->now_ms();
  std::exception_ptr cancelled;
  try {
    co_await asyncio::sleep(d);
  } catch (const asyncio::cancelled_error& e) {
    say(fmt::format("{}: cancelled ({}), cleaning up", name, *e.what() ? e.what() : "no message"));
    cancelled = std::current_exception();
  }
  if (cancelled) {  // C++ cannot co_await inside a catch block: clean up just after it
    co_await asyncio::sleep(scaled(20));
    say(name + ": cleanup done");
    story->add(name, "cancelled", start, false);
    std::rethrow_exception(cancelled);
  }
  story->add(name, "done", start, true);
  co_return result;
}

asyncio::coroutine<int> fails(ms d) {
  double start = story->now_ms();
  co_await asyncio::sleep(d);
  say("fails: raises std::runtime_error");
  story->add("fails", "failed", start, true);
  throw std::runtime_error("disk full");
}

asyncio::coroutine<void> chapter_wait_for() {
  fmt::print("\n1. wait_for: the download takes too long\n");
  try {
    co_await asyncio::wait_for(work("download", scaled(1000), 1), scaled(200));
  } catch (const asyncio::timeout_error&) {
    say("wait_for: timeout_error, after the download finished cleaning up");
  }
}

asyncio::coroutine<void> chapter_timeout() {
  fmt::print("\n2. timeout(): a scope whose deadline moves\n");
  auto body = [](asyncio::timeout_handle& scope) -> asyncio::coroutine<int> {
    scope.reschedule(asyncio::get_running_loop().time() + scaled(300));
    say(fmt::format("scope: deadline pushed from {} ms to {} ms away", scaled(100).count(),
                    scaled(300).count()));
    co_return co_await work("job", scaled(200), 2);
  };
  int v = co_await asyncio::timeout(scaled(100), body);
  say(fmt::format("scope: finished in time with {}", v));
}

asyncio::coroutine<void> chapter_cancel() {
  fmt::print("\n3. cancel(msg): the message travels with the cancellation\n");
  auto t = asyncio::create_task(work("upload", scaled(1000), 3), "upload");
  co_await asyncio::sleep(scaled(50));
  t.cancel("user pressed stop");
  try {
    co_await *t;
  } catch (const asyncio::cancelled_error& e) {
    say(fmt::format("main: upload ended cancelled: '{}'", e.what()));
  }
}

asyncio::coroutine<int> wait_shielded(asyncio::task<int> save) {
  co_return co_await asyncio::shield(save);
}

asyncio::coroutine<void> chapter_shield() {
  fmt::print("\n4. shield(): cancel the waiter, not the save\n");
  auto save = asyncio::create_task(work("save", scaled(150), 4), "save");
  auto waiter = asyncio::create_task(wait_shielded(save), "waiter");
  co_await asyncio::sleep(scaled(50));
  waiter.cancel();
  try {
    co_await *waiter;
  } catch (const asyncio::cancelled_error&) {
    say("waiter: cancelled at once; the save goes on");
  }
  say(fmt::format("save: finished with {}", co_await *save));
}

asyncio::coroutine<void> chapter_task_group() {
  fmt::print("\n5. task_group: one child fails, the others are cancelled\n");
  auto body = [](asyncio::task_group& tg) -> asyncio::coroutine<void> {
    tg.create_task(work("fast", scaled(50), 5));
    tg.create_task(fails(scaled(100)));
    tg.create_task(work("slow", scaled(400), 6));
    co_return;
  };
  try {
    co_await asyncio::task_group::run(body);
  } catch (const std::runtime_error& e) {
    say(fmt::format("main: the group raised '{}' once every child had ended", e.what()));
  }
}

asyncio::coroutine<void> amain() {
  co_await chapter_wait_for();
  co_await chapter_timeout();
  co_await chapter_cancel();
  co_await chapter_shield();
  co_await chapter_task_group();
}

}  // namespace

int main(int argc, char** argv) {
  int width;
  demo::po::options_description options("Options");
  // clang-format off
  options.add_options()
      ("scale", demo::po::value(&scale)->default_value(1.0), "multiplies every time (0.1 = 10x faster)")
      ("width", demo::number(&width, 20, 200)->default_value(80), "timeline columns (20-200)")
      ("ascii", "draw the timeline with ASCII only");
  // clang-format on
  auto vm = demo::parse(argc, argv,
                        "timeouts_and_cancellation: wait_for, timeout, cancel(msg), shield and\n"
                        "task_group, with Python's rules, as a short story with a timeline.",
                        options);
  if (!(scale > 0 && scale <= 100)) demo::usage_error(argv[0], "--scale must be in (0, 100]");

  demo::timeline tl;
  story = &tl;
  asyncio::run(amain());
  fmt::print("\nEach task's life:\n");
  tl.print_chart(width, vm.count("ascii") > 0, "ran to its end", "cancelled");
}
