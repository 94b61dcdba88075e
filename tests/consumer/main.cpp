// The README's hello, built against the package with every warning an error (a user's
// -Werror must not break on our headers): exits 0 only if the answer is right. It also awaits
// a thread, a sleep's value, a future and a task under wait_for, whose templates a header-only
// warning would hide in until a user instantiates them.
#include <asyncio.hpp>
using namespace std::chrono_literals;

asyncio::coroutine<int> fetch(int id) {  // async def fetch(id):
  co_await asyncio::sleep(100ms);        //     await asyncio.sleep(0.1)
  co_return id * 10;                     //     return id * 10
}

asyncio::coroutine<int> amain() {                              // async def main():
  auto [a, b] = co_await asyncio::gather(fetch(1), fetch(2));  // both in 100 ms, not 200
  int c = co_await asyncio::to_thread([] { return 3; });
  int d = co_await asyncio::sleep(1ms, 4);
  asyncio::future<int> f;
  f.set_result(5);
  int e = co_await *f;
  auto t = asyncio::create_task(fetch(6));
  int g = co_await asyncio::wait_for(t, 10s);
  co_return a + b + c + d + e + g;
}

int main() { return asyncio::run(amain()) == 102 ? 0 : 1; }  // asyncio.run(main())
