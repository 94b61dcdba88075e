// Calling an async function returns a coroutine object and runs nothing.
//
// The same program in Python, as in the notes (runnable, printing the same lines:
// demos/python/coroutine_object.py):
//
//   async def add(a, b):
//       print("add() runs")
//       await asyncio.sleep(0.1)
//       return a + b
//
//   coro = add(1, 2)                   # prints nothing: just a coroutine object
//   print(coro)                        # <coroutine object add at 0x...>
//
//   async def main():
//       return await coro              # way 1: await it inside a coroutine
//   print(asyncio.run(main()))
//
//   loop = asyncio.new_event_loop()
//   print(loop.run_until_complete(add(3, 4)))   # way 2: hand it to the event loop

#include <asyncio.hpp>

#include "support/cli.hpp"

#include <fmt/core.h>

namespace {

std::chrono::milliseconds delay;

asyncio::coroutine<int> add(int a, int b) {
  fmt::print("    add({}, {}) runs\n", a, b);
  co_await asyncio::sleep(delay);
  fmt::print("    add({}, {}) returns {}\n", a, b, a + b);
  co_return a + b;
}

asyncio::coroutine<int> await_it(asyncio::coroutine<int> coro) {
  fmt::print("  main() awaits the coroutine object\n");
  co_return co_await std::move(coro);
}

}  // namespace

int main(int argc, char** argv) {
  int a, b;
  long delay_ms;
  demo::po::options_description options("Options");
  // clang-format off
  options.add_options()
      ("a", demo::number(&a, -1'000'000'000, 1'000'000'000)->default_value(1), "first number (within +-1000000000)")
      ("b", demo::number(&b, -1'000'000'000, 1'000'000'000)->default_value(2), "second number (within +-1000000000)")
      ("delay-ms", demo::number(&delay_ms, 0L, 60'000L)->default_value(100), "how long add() awaits (0-60000)");
  // clang-format on
  demo::parse(argc, argv,
              "coroutine_object: calling an async function makes a coroutine object and runs "
              "nothing;\nits result is read by awaiting it or by handing it to the event loop.",
              options);
  delay = std::chrono::milliseconds(delay_ms);

  fmt::print("1. coro = add({}, {})\n", a, b);
  auto coro = add(a, b);
  fmt::print(
      "  nothing ran: coro is a coroutine object ({} bytes of handle, frame not started)\n\n",
      sizeof coro);

  fmt::print("2. asyncio::run(main()), where main() does co_await coro\n");
  int first = asyncio::run(await_it(std::move(coro)));
  fmt::print("  result: {}\n\n", first);

  fmt::print("3. loop.run_until_complete(add({}, {}))\n", a + 2, b + 2);
  asyncio::event_loop loop;
  int second = loop.run_until_complete(add(a + 2, b + 2));
  fmt::print("  result: {}\n", second);
}
