// The README's hello, built against the package: exits 0 only if the answer is right.
#include <asyncio.hpp>
using namespace std::chrono_literals;

asyncio::coroutine<int> fetch(int id) {  // async def fetch(id):
  co_await asyncio::sleep(100ms);        //     await asyncio.sleep(0.1)
  co_return id * 10;                     //     return id * 10
}

asyncio::coroutine<int> amain() {                              // async def main():
  auto [a, b] = co_await asyncio::gather(fetch(1), fetch(2));  // both in 100 ms, not 200
  co_return a + b;
}

int main() { return asyncio::run(amain()) == 30 ? 0 : 1; }  // asyncio.run(main())
