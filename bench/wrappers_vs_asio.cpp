// The cost of the wrappers: the same workloads through asyncio-cpp and through raw Asio
// (co_spawn + awaitable on one io_context), measured in one run, reported as ratios.
//
//   W1  spawn N tasks that each yield once and return an int, gather all     tasks/s
//   W2  N tasks each sleeping 100 ms at once                                 wall / 100 ms
//   W3  N tasks waiting on a timer                                           RSS bytes / task
//   W4  two tasks pass a token back and forth N times through two queues      ns / handoff
//       (raw: experimental::channel)
//   W5  50 clients x N echo round trips over loopback, server on the same loop  us / round trip
//       (streams against async_read_until / async_write)
//
// Beside them, heap allocations per uncontended lock acquire+release and queue put+get (the
// promise: none). Each measurement runs in a forked child, so every one starts from the same heap.
// Absolute numbers swing between runs on a shared VM; the ratios are the result.

#include <asyncio.hpp>

#include "../demos/cli.hpp"
#include "../demos/isolate.hpp"

#include <fmt/core.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/channel.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include <unistd.h>
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <new>

// Every heap allocation of the process, counted (for the allocations-per-operation line).
// GCC flags free() after an inlined `new` as mismatched; here both sides are ours.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
static std::atomic<long> allocations{0};

void* operator new(std::size_t size) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace asio = boost::asio;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {

double seconds_since(clock_type::time_point start) {
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

long rss_bytes() {
  std::ifstream statm("/proc/self/statm");
  long pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

// ---- W1: spawn, yield once, return, gather ----

asio::awaitable<int> raw_yield(int i) {
  co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
  co_return i;
}

double w1_raw(int n) {
  asio::io_context ctx(1);
  std::vector<int> results(n);
  auto start = clock_type::now();
  for (int i = 0; i < n; ++i)
    asio::co_spawn(ctx, raw_yield(i), [&results, i](std::exception_ptr e, int v) {
      if (e) std::rethrow_exception(e);
      results[i] = v;
    });
  ctx.run();
  return n / seconds_since(start);
}

asyncio::coroutine<int> yield_once(int i) {
  co_await asyncio::sleep(0s);
  co_return i;
}

asyncio::coroutine<double> w1_main(int n) {
  auto start = clock_type::now();
  std::vector<asyncio::task<int>> tasks;
  tasks.reserve(n);
  for (int i = 0; i < n; ++i) tasks.push_back(asyncio::create_task(yield_once(i)));
  auto results = co_await asyncio::gather(std::move(tasks));
  co_return results.size() / seconds_since(start);
}

double w1_wrapped(int n) { return asyncio::run(w1_main(n)); }

// ---- W2: N concurrent 100 ms sleeps ----

asio::awaitable<void> raw_sleep(clock_type::duration d) {
  asio::steady_timer timer(co_await asio::this_coro::executor, d);
  co_await timer.async_wait(asio::use_awaitable);
}

double w2_raw(int n) {
  asio::io_context ctx(1);
  auto start = clock_type::now();
  for (int i = 0; i < n; ++i)
    asio::co_spawn(ctx, raw_sleep(100ms), [](std::exception_ptr e) {
      if (e) std::rethrow_exception(e);
    });
  ctx.run();
  return seconds_since(start) / 0.1;
}

asyncio::coroutine<void> sleep_100ms() { co_await asyncio::sleep(100ms); }

asyncio::coroutine<double> w2_main(int n) {
  auto start = clock_type::now();
  std::vector<asyncio::task<>> tasks;
  tasks.reserve(n);
  for (int i = 0; i < n; ++i) tasks.push_back(asyncio::create_task(sleep_100ms()));
  co_await asyncio::gather(std::move(tasks));
  co_return seconds_since(start) / 0.1;
}

double w2_wrapped(int n) { return asyncio::run(w2_main(n)); }

// ---- W3: memory per waiting task ----

double w3_raw(int n) {
  asio::io_context ctx(1);
  long before = rss_bytes();
  for (int i = 0; i < n; ++i) asio::co_spawn(ctx, raw_sleep(1h), [](std::exception_ptr) {});
  ctx.poll();  // every task starts and parks on its timer
  return double(rss_bytes() - before) / n;
}

asyncio::coroutine<void> sleep_long() { co_await asyncio::sleep(1h); }

asyncio::coroutine<double> w3_main(int n) {
  std::vector<asyncio::task<>> tasks;
  tasks.reserve(n);  // the handles are the caller's, not the task's: allocated before measuring
  long before = rss_bytes();
  for (int i = 0; i < n; ++i) tasks.push_back(asyncio::create_task(sleep_long()));
  co_await asyncio::sleep(0s);  // every task starts and parks on its timer
  double per_task = double(rss_bytes() - before) / n;
  for (auto& t : tasks) t.cancel();
  for (auto& t : tasks) {
    try {
      co_await *t;
    } catch (const asyncio::cancelled_error&) {
    }
  }
  co_return per_task;
}

double w3_wrapped(int n) { return asyncio::run(w3_main(n)); }

// ---- W4: a token passed back and forth, n round trips = 2n handoffs ----

using raw_channel = asio::experimental::channel<void(boost::system::error_code, int)>;

// co_spawn's completion for raw Asio coroutines here: nothing is dropped.
void rethrow(std::exception_ptr e) {
  if (e) std::rethrow_exception(e);
}

asio::awaitable<void> raw_ping(raw_channel& out, raw_channel& in, int n) {
  for (int i = 0; i < n; ++i) {
    co_await out.async_send({}, i, asio::use_awaitable);
    co_await in.async_receive(asio::use_awaitable);
  }
}

asio::awaitable<void> raw_pong(raw_channel& in, raw_channel& out, int n) {
  for (int i = 0; i < n; ++i) {
    int token = co_await in.async_receive(asio::use_awaitable);
    co_await out.async_send({}, token, asio::use_awaitable);
  }
}

double w4_raw(int n) {
  asio::io_context ctx(1);
  raw_channel there(ctx, 1), back(ctx, 1);
  auto start = clock_type::now();
  asio::co_spawn(ctx, raw_ping(there, back, n), rethrow);
  asio::co_spawn(ctx, raw_pong(there, back, n), rethrow);
  ctx.run();
  return seconds_since(start) * 1e9 / (2.0 * n);
}

asyncio::coroutine<void> ping(asyncio::queue<int>& out, asyncio::queue<int>& in, int n) {
  for (int i = 0; i < n; ++i) {
    co_await out.put(i);
    co_await in.get();
  }
}

asyncio::coroutine<void> pong(asyncio::queue<int>& in, asyncio::queue<int>& out, int n) {
  for (int i = 0; i < n; ++i) {
    int token = co_await in.get();
    co_await out.put(token);
  }
}

asyncio::coroutine<double> w4_main(int n) {
  asyncio::queue<int> there(1), back(1);
  auto start = clock_type::now();
  auto a = asyncio::create_task(ping(there, back, n));
  auto b = asyncio::create_task(pong(there, back, n));
  co_await asyncio::gather(a, b);
  co_return seconds_since(start) * 1e9 / (2.0 * n);
}

double w4_wrapped(int n) { return asyncio::run(w4_main(n)); }

// ---- W5: echo round trips over loopback, server and clients on one loop ----

constexpr int echo_clients = 50;

asio::awaitable<void> raw_echo_session(asio::ip::tcp::socket s) {
  asio::streambuf in;
  for (;;) {
    auto [ec, n] =
        co_await asio::async_read_until(s, in, '\n', asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    std::string line(asio::buffers_begin(in.data()), asio::buffers_begin(in.data()) + n);
    in.consume(n);
    co_await asio::async_write(s, asio::buffer(line), asio::use_awaitable);
  }
}

asio::awaitable<void> raw_echo_accept(asio::ip::tcp::acceptor& a, int connections) {
  for (int i = 0; i < connections; ++i)
    asio::co_spawn(a.get_executor(), raw_echo_session(co_await a.async_accept(asio::use_awaitable)),
                   rethrow);
}

asio::awaitable<void> raw_echo_client(asio::ip::tcp::endpoint at, int trips) {
  asio::ip::tcp::socket s(co_await asio::this_coro::executor);
  co_await s.async_connect(at, asio::use_awaitable);
  asio::streambuf in;
  const std::string message = "a line of an echo benchmark\n";
  for (int i = 0; i < trips; ++i) {
    co_await asio::async_write(s, asio::buffer(message), asio::use_awaitable);
    auto n = co_await asio::async_read_until(s, in, '\n', asio::use_awaitable);
    in.consume(n);
  }
}

double w5_raw(int trips) {
  asio::io_context ctx(1);
  asio::ip::tcp::acceptor acceptor(ctx, {asio::ip::make_address("127.0.0.1"), 0});
  auto start = clock_type::now();
  asio::co_spawn(ctx, raw_echo_accept(acceptor, echo_clients), rethrow);
  for (int c = 0; c < echo_clients; ++c)
    asio::co_spawn(ctx, raw_echo_client(acceptor.local_endpoint(), trips), rethrow);
  ctx.run();
  return seconds_since(start) * 1e6 / (double(echo_clients) * trips);
}

asyncio::coroutine<void> echo_session(asyncio::stream_reader r, asyncio::stream_writer w) {
  for (;;) {
    auto line = co_await r.readline();
    if (line.empty()) co_return;
    w.write(line);
    co_await w.drain();
  }
}

asyncio::coroutine<void> echo_client(std::uint16_t port, int trips) {
  auto [r, w] = co_await asyncio::open_connection("127.0.0.1", port);
  const std::string message = "a line of an echo benchmark\n";
  for (int i = 0; i < trips; ++i) {
    w.write(message);
    co_await w.drain();
    co_await r.readline();
  }
  w.close();
}

asyncio::coroutine<double> w5_main(int trips) {
  auto server = co_await asyncio::start_server(echo_session, "127.0.0.1", 0);
  auto start = clock_type::now();
  std::vector<asyncio::task<>> clients;
  for (int c = 0; c < echo_clients; ++c)
    clients.push_back(asyncio::create_task(echo_client(server.port(), trips)));
  co_await asyncio::gather(std::move(clients));
  co_return seconds_since(start) * 1e6 / (double(echo_clients) * trips);
}

double w5_wrapped(int trips) { return asyncio::run(w5_main(trips)); }

// ---- heap allocations per uncontended operation, after a warm-up ----

asyncio::coroutine<void> lock_cycle(asyncio::lock& l) {
  co_await l.acquire();
  l.release();
}

asyncio::coroutine<void> queue_cycle(asyncio::queue<int>& q) {
  co_await q.put(1);
  co_await q.get();
}

template <class Thing>
asyncio::coroutine<double> allocations_per(asyncio::coroutine<void> (*cycle)(Thing&), int n) {
  Thing thing;
  co_await cycle(thing);  // Asio's per-thread cache of coroutine frames fills here
  long before = allocations.load();
  for (int i = 0; i < n; ++i) co_await cycle(thing);
  co_return double(allocations.load() - before) / n;
}

// One number, measured in a fresh process.
double isolated(const std::function<double()>& fn) {
  return demo::isolated([&fn] { return std::vector<double>{fn()}; }).at(0);
}

struct workload {
  const char* name;
  const char* unit;
  bool higher_is_better;
  std::function<double(int)> raw, wrapped;
  int n;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int spawn_n, sleep_n, memory_n, handoff_n, trips_n, repeat;
  std::string json_path;
  demo::po::options_description options("Options");
  // clang-format off
  options.add_options()
      ("spawn-tasks", demo::po::value(&spawn_n)->default_value(200'000), "W1 tasks")
      ("sleep-tasks", demo::po::value(&sleep_n)->default_value(100'000), "W2 tasks")
      ("memory-tasks", demo::po::value(&memory_n)->default_value(100'000), "W3 tasks")
      ("round-trips", demo::po::value(&handoff_n)->default_value(500'000), "W4 round trips (2 handoffs each)")
      ("echo-trips", demo::po::value(&trips_n)->default_value(1'000), "W5 echo round trips per client (50 clients)")
      ("repeat", demo::po::value(&repeat)->default_value(5), "runs of each; the median is kept")
      ("json", demo::po::value(&json_path), "also write the results to this JSON file");
  // clang-format on
  demo::parse(argc, argv,
              "wrappers_vs_asio: the same workloads through asyncio-cpp and raw Asio, in one run.",
              options);
  for (int n : {spawn_n, sleep_n, memory_n, handoff_n, trips_n})
    if (n < 1 || n > 10'000'000) demo::usage_error(argv[0], "counts must be 1-10000000");
  if (repeat < 1 || repeat > 100) demo::usage_error(argv[0], "--repeat must be 1-100");

  std::vector<workload> workloads = {
      {"W1 spawn+yield+gather", "tasks/s", true, w1_raw, w1_wrapped, spawn_n},
      {"W2 100 ms sleeps", "x ideal", false, w2_raw, w2_wrapped, sleep_n},
      {"W3 waiting task", "bytes/task", false, w3_raw, w3_wrapped, memory_n},
      {"W4 queue handoff", "ns/handoff", false, w4_raw, w4_wrapped, handoff_n},
      {"W5 echo over loopback", "us/round trip", false, w5_raw, w5_wrapped, trips_n},
  };

  boost::json::array rows;
  fmt::print("{:<24} {:>10} {:>14} {:>14} {:>8}\n", "workload", "n", "raw Asio", "asyncio-cpp",
             "ratio");
  for (auto& w : workloads) {
    std::vector<double> raw, wrapped;
    for (int r = 0; r < repeat; ++r) {  // interleaved, so drift hits both alike
      raw.push_back(isolated([&] { return w.raw(w.n); }));
      wrapped.push_back(isolated([&] { return w.wrapped(w.n); }));
    }
    double a = median(raw), b = median(wrapped);
    // The ratio is the wrapper's cost: > 1 means slower or bigger than raw Asio.
    double ratio = w.higher_is_better ? a / b : b / a;
    fmt::print("{:<24} {:>10} {:>10.3g} {:<3} {:>10.3g} {:<3} {:>7.3f}x\n", w.name, w.n, a, "", b,
               "", ratio);
    rows.push_back({{"workload", w.name},
                    {"n", w.n},
                    {"unit", w.unit},
                    {"raw_asio", a},
                    {"asyncio_cpp", b},
                    {"cost_ratio", ratio}});
  }
  fmt::print(
      "units: W1 tasks/s, W2 wall time / 100 ms, W3 RSS bytes per waiting task, W4 ns per "
      "handoff,\nW5 us per echo round trip; ratio = asyncio-cpp's cost over raw Asio's (medians "
      "of {} runs)\n",
      repeat);

  // Counts, not timings: one run of each is exact.
  const int cycles = 100'000;
  double lock_allocs = isolated([&] { return asyncio::run(allocations_per(lock_cycle, cycles)); });
  double queue_allocs =
      isolated([&] { return asyncio::run(allocations_per(queue_cycle, cycles)); });
  fmt::print("heap allocations per uncontended lock acquire+release: {:g}, queue put+get: {:g}\n",
             lock_allocs, queue_allocs);

  if (!json_path.empty()) {
    boost::json::object allocs{{"lock_acquire_release", lock_allocs},
                               {"queue_put_get", queue_allocs}};
    auto json = boost::json::serialize(boost::json::object{
        {"results", rows}, {"allocations_per_uncontended_op", allocs}, {"repeat", repeat}});
    if (!demo::write_file(json_path, json + "\n")) return 1;
  }
}
