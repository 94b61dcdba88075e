// The README's hello, built against the package: exits 0 only if the answer is right.
#include <asyncio.hpp>

#include <chrono>

using namespace std::chrono_literals;

asyncio::coroutine<int> answer() {
  co_await asyncio::sleep(1ms);
  co_return 42;
}

asyncio::coroutine<int> amain() {
  auto [a, b] = co_await asyncio::gather(answer(), answer());
  co_return a + b - 42;
}

int main() { return asyncio::run(amain()) == 42 ? 0 : 1; }
