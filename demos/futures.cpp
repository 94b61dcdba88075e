// Futures: a result that arrives later, from another thread or from a callback.
//
// The same program in Python:
//
//   def worker(loop):                               # a plain thread
//       fut = asyncio.run_coroutine_threadsafe(compute(21), loop)
//       print(fut.result())                         # blocks this thread only
//
//   async def main():
//       loop = asyncio.get_running_loop()
//       threading.Thread(target=worker, args=(loop,)).start()
//       f = loop.create_future()
//       f.add_done_callback(lambda f: print("done:", f.result()))
//       loop.call_later(0.05, f.set_result, "hello")    # set from a callback
//       print(await f)

#include <asyncio.hpp>

#include "support/cli.hpp"

#include <fmt/core.h>

#include <thread>

namespace {

asyncio::coroutine<int> compute(int x, std::chrono::milliseconds delay) {
  fmt::print("  [loop]   compute({}) starts as a task of the loop\n", x);
  co_await asyncio::sleep(delay);
  co_return x * 2;
}

void worker(asyncio::event_loop& loop, int requests, std::chrono::milliseconds delay) {
  for (int i = 1; i <= requests; ++i) {
    fmt::print("  [thread] submits compute({}) and blocks on its std::future\n", i * 10);
    std::future<int> f = asyncio::run_coroutine_threadsafe(compute(i * 10, delay), loop);
    fmt::print("  [thread] got {}\n", f.get());
  }
}

asyncio::coroutine<void> amain(int requests, std::chrono::milliseconds delay) {
  auto& loop = asyncio::get_running_loop();
  // The thread blocks on its futures; the loop stays free. to_thread joins it without blocking.
  auto thread_done =
      asyncio::create_task(asyncio::to_thread(worker, std::ref(loop), requests, delay));

  asyncio::future<std::string> f;
  f.add_done_callback([](asyncio::future<std::string> done) {
    fmt::print("  [loop]   done callback: the future holds '{}'\n", done.result());
  });
  loop.call_later(delay, [f]() mutable {
    fmt::print("  [loop]   a timer callback sets the future\n");
    f.set_result("hello");
  });
  fmt::print("  [loop]   main awaits the future\n");
  fmt::print("  [loop]   main got '{}'\n", co_await *f);
  co_await *thread_done;
}

}  // namespace

int main(int argc, char** argv) {
  int requests;
  long delay_ms;
  demo::po::options_description options("Options");
  // clang-format off
  options.add_options()
      ("requests", demo::number(&requests, 0, 100)->default_value(2), "coroutines the thread submits (0-100)")
      ("delay-ms", demo::number(&delay_ms, 0L, 60'000L)->default_value(50), "how long each takes (0-60000)");
  // clang-format on
  demo::parse(argc, argv,
              "futures: a plain thread hands coroutines to a running loop and waits on their\n"
              "std::future; a loop-bound future is set from a callback; done callbacks fire.",
              options);
  asyncio::run(amain(requests, std::chrono::milliseconds(delay_ms)));
}
