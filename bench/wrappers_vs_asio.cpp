// The cost of the wrappers: the same workloads through asyncio-cpp and through raw Asio
// (co_spawn + awaitable on one io_context), measured in one run, reported as ratios.
//
//   W1  spawn N tasks that each yield once and return an int, gather all     tasks/s
//   W2  N tasks each sleeping 100 ms at once                                 ms over 100 ms
//   W3  N tasks waiting on a timer                                           RSS bytes / task
//   W4  two tasks pass a token back and forth N times through two queues      ns / handoff
//       (raw: experimental::channel, try_send/try_receive first)
//   W4X W4 between two loops on two threads                                  ns / handoff
//       (threadsafe_queue; raw: experimental::concurrent_channel, two io_contexts)
//   W5  50 clients x N echo round trips over loopback, server on the same loop  us / round trip
//       (streams against async_read_until / async_write)
//   W5T W5 over TLS (the same two ssl::contexts on both sides: a certificate     us / round trip
//       for 127.0.0.1 signed by a CA made at start, verified by the clients)
//   W6  W1 on every loop of a loop_group at once, against on one loop         tasks/s, scaling
//   W6E W5 on every loop (each listening with reuse_port), against one loop   trips/s, scaling
//       (the asyncio-cpp side only: how one loop per core scales)
//
// Like with like: raw Asio runs as a real program does, with a timer on its io_context, so Asio's
// reactor exists and its scheduler polls it (epoll_wait) between handlers, as it does under
// asyncio::run (whose SIGINT handler is such an I/O object). Every run checks its own result
// (the sum of the values, each token, each echoed line): a wrong one fails, it is never timed.
// Every heap allocation is counted (malloc and its kin, which operator new and Asio's recycling
// allocator both end in).
//
// Modes: the table (each measurement in a forked child, sides alternating which goes first,
// medians); --workload W --side S --n N: one measurement, one JSON line (for `compare` and
// callgrind); --instructions: callgrind's instruction counts per task (W1), per handoff (W4,
// W4X) and per round trip (W5, W5T).

#include <asyncio.hpp>

#include "process.hpp"
#include "support/certificates.hpp"
#include "support/cli.hpp"
#include "support/isolate.hpp"
#include "support/measure.hpp"

#include <fmt/core.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/channel.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <unistd.h>
#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <numeric>
#include <optional>
#include <sstream>
#include <thread>

// ---- every heap allocation of the process, counted ----

// Per thread, each in a cache line of its own: one shared counter would be contended by the
// loops of W4X and W6, slowing them as nothing in a real program would. The count is the sum.
struct alignas(64) allocation_slot {
  std::atomic<long> n{0};
};
static allocation_slot allocation_slots[64];
static std::atomic<int> next_allocation_slot{0};
static constinit thread_local int this_thread_slot = -1;

static long allocations() {
  long total = 0;
  for (auto& slot : allocation_slots) total += slot.n.load(std::memory_order_relaxed);
  return total;
}

extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);

static void* counted(void* p) {
  if (this_thread_slot < 0) this_thread_slot = next_allocation_slot.fetch_add(1) % 64;
  allocation_slots[this_thread_slot].n.fetch_add(1, std::memory_order_relaxed);
  return p;
}
void* malloc(std::size_t size) { return counted(__libc_malloc(size)); }
void* calloc(std::size_t n, std::size_t size) { return counted(__libc_calloc(n, size)); }
void* realloc(void* p, std::size_t size) { return counted(__libc_realloc(p, size)); }
void* memalign(std::size_t align, std::size_t size) {
  return counted(__libc_memalign(align, size));
}
void* aligned_alloc(std::size_t align, std::size_t size) { return memalign(align, size); }
int posix_memalign(void** out, std::size_t align, std::size_t size) {
  *out = memalign(align, size);
  return *out ? 0 : ENOMEM;
}
}

namespace asio = boost::asio;
using namespace std::chrono_literals;
using demo::clock_type;

namespace {

double seconds_since(clock_type::time_point start) { return demo::ms_since(start) / 1e3; }

/// One measurement: the figure, and heap allocations per unit (task, handoff, round trip).
struct sample {
  double value = 0, allocations = 0;
};

/// Allocations from here on, per unit.
struct allocation_count {
  long start = allocations();
  double per(double units) const { return units > 0 ? (allocations() - start) / units : 0; }
};

/// a / b, or 0 for a run of size 0 (its figure is not a time: only its instructions count).
double per(double a, double b) { return b > 0 ? a / b : 0; }

// The message is formatted only on failure: W4 checks every token, and formatting each one
// would cost more than the handoff it checks.
template <class... Args>
void check(bool ok, fmt::format_string<Args...> what, Args&&... args) {
  if (!ok)
    throw std::runtime_error("wrong result: " + fmt::format(what, std::forward<Args>(args)...));
}

void check_sum(long long sum, int n) {
  check(sum == (long long)n * (n - 1) / 2, "the values sum to {}", sum);
}

// co_spawn's completion for raw Asio coroutines here: nothing is dropped.
void rethrow(std::exception_ptr e) {
  if (e) std::rethrow_exception(e);
}

// A raw Asio program's io_context as every real one has it: with a timer on it, so Asio's
// reactor exists and its scheduler runs it between handlers. `reactor = false` leaves it out,
// for the one row that shows what that costs.
struct raw_loop {
  explicit raw_loop(bool reactor = true) {
    if (reactor) idle.emplace(ctx);
  }
  asio::io_context ctx{1};
  std::optional<asio::steady_timer> idle;
};

// ---- W1: spawn, yield once, return, gather ----

asio::awaitable<int> raw_yield(int i) {
  co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
  co_return i;
}

// The fastest idiomatic raw form: spawned from inside the loop, joined with a counter that
// wakes the spawner's timer when the last one ends.
asio::awaitable<void> raw_spawn_gather(int n, sample& out) {
  auto ex = co_await asio::this_coro::executor;
  asio::steady_timer joined(ex, asio::steady_timer::time_point::max());
  long long sum = 0;
  int left = n;
  allocation_count allocs;
  auto start = clock_type::now();
  for (int i = 0; i < n; ++i)
    asio::co_spawn(ex, raw_yield(i), [&sum, &left, &joined](std::exception_ptr e, int v) {
      rethrow(e);
      sum += v;
      if (--left == 0) joined.cancel();
    });
  if (left > 0) co_await joined.async_wait(asio::as_tuple(asio::use_awaitable));
  out = {per(n, seconds_since(start)), allocs.per(n)};
  check_sum(sum, n);
}

sample w1_raw(int n) {
  raw_loop loop;
  sample s;
  asio::co_spawn(loop.ctx, raw_spawn_gather(n, s), rethrow);
  loop.ctx.run();
  return s;
}

asyncio::coroutine<int> yield_once(int i) {
  co_await asyncio::sleep(0s);
  co_return i;
}

asyncio::coroutine<sample> w1_main(int n) {
  allocation_count allocs;
  auto start = clock_type::now();
  std::vector<asyncio::task<int>> tasks;
  tasks.reserve(n);
  for (int i = 0; i < n; ++i) tasks.push_back(asyncio::create_task(yield_once(i)));
  auto results = co_await asyncio::gather(std::move(tasks));
  sample s{per(n, seconds_since(start)), allocs.per(n)};
  long long sum = 0;
  for (int v : results) sum += v;
  check_sum(sum, n);
  co_return s;
}

sample w1_wrapped(int n) { return asyncio::run(w1_main(n)); }

// ---- W2: N concurrent 100 ms sleeps; the figure is the time beyond the 100 ms ----

double overhead_ms(clock_type::time_point start) { return (seconds_since(start) - 0.1) * 1e3; }

asio::awaitable<void> raw_sleep(clock_type::duration d) {
  asio::steady_timer timer(co_await asio::this_coro::executor, d);
  co_await timer.async_wait(asio::use_awaitable);
}

sample w2_raw(int n) {
  raw_loop loop;
  int woke = 0;
  allocation_count allocs;
  auto start = clock_type::now();
  for (int i = 0; i < n; ++i)
    asio::co_spawn(loop.ctx, raw_sleep(100ms), [&woke](std::exception_ptr e) {
      rethrow(e);
      ++woke;
    });
  loop.ctx.run();
  sample s{overhead_ms(start), allocs.per(n)};
  check(woke == n, "{} of {} sleepers woke", woke, n);
  return s;
}

asyncio::coroutine<int> sleep_100ms() { co_return co_await asyncio::sleep(100ms, 1); }

asyncio::coroutine<sample> w2_main(int n) {
  allocation_count allocs;
  auto start = clock_type::now();
  std::vector<asyncio::task<int>> tasks;
  tasks.reserve(n);
  for (int i = 0; i < n; ++i) tasks.push_back(asyncio::create_task(sleep_100ms()));
  auto woke = co_await asyncio::gather(std::move(tasks));
  sample s{overhead_ms(start), allocs.per(n)};
  check(int(std::count(woke.begin(), woke.end(), 1)) == n, "every sleeper woke");
  co_return s;
}

sample w2_wrapped(int n) { return asyncio::run(w2_main(n)); }

// ---- W3: memory per waiting task ----

asio::awaitable<void> raw_park(int& parked) {
  asio::steady_timer timer(co_await asio::this_coro::executor, 1h);
  ++parked;
  co_await timer.async_wait(asio::use_awaitable);
}

sample w3_raw(int n) {
  raw_loop loop;
  int parked = 0;
  allocation_count allocs;
  double before = demo::memory_now().rss;
  for (int i = 0; i < n; ++i) asio::co_spawn(loop.ctx, raw_park(parked), [](std::exception_ptr) {});
  loop.ctx.poll();  // every task starts and parks on its timer
  sample s{(demo::memory_now().rss - before) / n, allocs.per(n)};
  check(parked == n, "{} of {} tasks parked", parked, n);
  return s;
}

asyncio::coroutine<void> park(int& parked) {
  ++parked;
  co_await asyncio::sleep(1h);
}

asyncio::coroutine<sample> w3_main(int n) {
  std::vector<asyncio::task<>> tasks;
  tasks.reserve(n);  // the handles are the caller's, not the task's: allocated before measuring
  int parked = 0;
  allocation_count allocs;
  double before = demo::memory_now().rss;
  for (int i = 0; i < n; ++i) tasks.push_back(asyncio::create_task(park(parked)));
  co_await asyncio::sleep(0s);  // every task starts and parks on its timer
  sample s{(demo::memory_now().rss - before) / n, allocs.per(n)};
  check(parked == n, "{} of {} tasks parked", parked, n);
  for (auto& t : tasks) t.cancel();
  for (auto& t : tasks) {
    try {
      co_await *t;
    } catch (const asyncio::cancelled_error&) {
    }
  }
  co_return s;
}

sample w3_wrapped(int n) { return asyncio::run(w3_main(n)); }

// ---- W4: a token passed back and forth, n round trips = 2n handoffs ----

using raw_channel = asio::experimental::channel<void(boost::system::error_code, int)>;

// The idiomatic fast path: try first, and only wait when the channel is not ready.
template <class Channel>
asio::awaitable<void> raw_send(Channel& c, int token) {
  if (!c.try_send(boost::system::error_code{}, token))
    co_await c.async_send({}, token, asio::use_awaitable);
}

template <class Channel>
asio::awaitable<int> raw_receive(Channel& c) {
  int token = -1;
  if (c.try_receive([&token](boost::system::error_code, int v) { token = v; })) co_return token;
  co_return co_await c.async_receive(asio::use_awaitable);
}

template <class Channel>
asio::awaitable<void> raw_ping(Channel& out, Channel& in, int n) {
  for (int i = 0; i < n; ++i) {
    co_await raw_send(out, i);
    int token = co_await raw_receive(in);
    check(token == i, "token {} came back as {}", i, token);
  }
}

template <class Channel>
asio::awaitable<void> raw_pong(Channel& in, Channel& out, int n) {
  for (int i = 0; i < n; ++i) {
    int token = co_await raw_receive(in);
    co_await raw_send(out, token);
  }
}

sample w4_raw_on(int n, bool reactor) {
  raw_loop loop(reactor);
  raw_channel there(loop.ctx, 1), back(loop.ctx, 1);
  allocation_count allocs;
  auto start = clock_type::now();
  asio::co_spawn(loop.ctx, raw_ping(there, back, n), rethrow);
  asio::co_spawn(loop.ctx, raw_pong(there, back, n), rethrow);
  loop.ctx.run();
  return {per(seconds_since(start) * 1e9, 2.0 * n), allocs.per(2.0 * n)};
}

sample w4_raw(int n) { return w4_raw_on(n, true); }
sample w4_raw_no_reactor(int n) { return w4_raw_on(n, false); }

template <class Queue>
asyncio::coroutine<void> ping(Queue& out, Queue& in, int n) {
  for (int i = 0; i < n; ++i) {
    co_await out.put(i);
    int token = co_await in.get();
    check(token == i, "token {} came back as {}", i, token);
  }
}

template <class Queue>
asyncio::coroutine<void> pong(Queue& in, Queue& out, int n) {
  for (int i = 0; i < n; ++i) {
    int token = co_await in.get();
    co_await out.put(token);
  }
}

asyncio::coroutine<sample> w4_main(int n) {
  asyncio::queue<int> there(1), back(1);
  allocation_count allocs;
  auto start = clock_type::now();
  auto a = asyncio::create_task(ping<asyncio::queue<int>>(there, back, n));
  auto b = asyncio::create_task(pong<asyncio::queue<int>>(there, back, n));
  co_await asyncio::gather(a, b);
  co_return sample{per(seconds_since(start) * 1e9, 2.0 * n), allocs.per(2.0 * n)};
}

sample w4_wrapped(int n) { return asyncio::run(w4_main(n)); }

// ---- W4X: the same between two loops, each on its own thread ----

using raw_cross_channel =
    asio::experimental::concurrent_channel<void(boost::system::error_code, int)>;

// Two io_contexts (each with its timer, as raw_loop), each run by a thread.
sample w4x_raw(int n) {
  raw_loop a, b;
  raw_cross_channel there(a.ctx, 1), back(b.ctx, 1);
  allocation_count allocs;
  auto start = clock_type::now();
  asio::co_spawn(a.ctx, raw_ping(there, back, n), rethrow);
  asio::co_spawn(b.ctx, raw_pong(there, back, n), rethrow);
  std::exception_ptr error;
  std::thread other([&b, &error] {
    try {
      b.ctx.run();
    } catch (...) {
      error = std::current_exception();
    }
  });
  try {
    a.ctx.run();
  } catch (...) {
    b.ctx.stop();
    other.join();
    throw;
  }
  other.join();
  rethrow(error);
  return {per(seconds_since(start) * 1e9, 2.0 * n), allocs.per(2.0 * n)};
}

sample w4x_wrapped(int n) {
  asyncio::threadsafe_queue<int> there(1), back(1);
  asyncio::loop_group group(2);
  allocation_count allocs;
  auto start = clock_type::now();
  group.run([&there, &back, n](asyncio::event_loop&, std::size_t i) {
    return i == 0 ? ping(there, back, n) : pong(there, back, n);
  });
  return {per(seconds_since(start) * 1e9, 2.0 * n), allocs.per(2.0 * n)};
}

// ---- W5: echo round trips over loopback, server and clients on one loop ----

constexpr int echo_clients = 50;
const std::string message = "a line of an echo benchmark\n";

void check_echo(const std::string& line) {
  check(line == message, "an echoed line differs from the one sent");
}

// W5 over TLS too: one CA, a server certificate for 127.0.0.1 and a client context trusting
// it, made once; both sides use the same two contexts (so the same protocol and cipher) and
// verify the server's certificate and address alike.
struct tls_contexts {
  asyncio::ssl_context server{asyncio::ssl_context::tls_server};
  asyncio::ssl_context client = asyncio::create_default_context();
  tls_contexts() {
    demo::certificate_authority ca;
    auto pair = ca.issue("127.0.0.1");
    server.use_certificate_chain(asio::buffer(pair.cert));
    server.use_private_key(asio::buffer(pair.key), asyncio::ssl_context::pem);
    client.add_certificate_authority(asio::buffer(ca.cert_pem()));
  }
};

tls_contexts& tls() {
  static tls_contexts contexts;
  return contexts;
}

using tls_socket = asio::ssl::stream<asio::ip::tcp::socket>;

// A raw stream: the socket itself, or TLS over it once handshaken.
template <class Stream>
asio::awaitable<void> raw_handshake(Stream& s, asio::ssl::stream_base::handshake_type side) {
  if constexpr (std::is_same_v<Stream, tls_socket>) {
    if (side == asio::ssl::stream_base::client)
      ::X509_VERIFY_PARAM_set1_ip_asc(::SSL_get0_param(s.native_handle()), "127.0.0.1");
    co_await s.async_handshake(side, asio::use_awaitable);
  }
}

template <class Stream>
Stream raw_stream(asio::ip::tcp::socket s) {
  if constexpr (std::is_same_v<Stream, tls_socket>)
    return tls_socket(std::move(s), tls().server);
  else
    return s;
}

template <class Stream>
asio::awaitable<void> raw_echo_session(asio::ip::tcp::socket socket) {
  socket.set_option(asio::ip::tcp::no_delay(true));  // as asyncio-cpp's streams (and Python's)
  Stream s = raw_stream<Stream>(std::move(socket));
  co_await raw_handshake(s, asio::ssl::stream_base::server);
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

template <class Stream>
asio::awaitable<void> raw_echo_accept(asio::ip::tcp::acceptor& a, int connections) {
  for (int i = 0; i < connections; ++i) {
    auto socket = co_await a.async_accept(asio::use_awaitable);
    asio::co_spawn(a.get_executor(), raw_echo_session<Stream>(std::move(socket)), rethrow);
  }
}

template <class Stream>
asio::awaitable<void> raw_echo_client(asio::ip::tcp::endpoint at, int trips, long& echoed) {
  asio::ip::tcp::socket socket(co_await asio::this_coro::executor);
  co_await socket.async_connect(at, asio::use_awaitable);
  socket.set_option(asio::ip::tcp::no_delay(true));
  std::optional<Stream> tls_or_plain;
  if constexpr (std::is_same_v<Stream, tls_socket>)
    tls_or_plain.emplace(std::move(socket), tls().client);
  else
    tls_or_plain.emplace(std::move(socket));
  Stream& s = *tls_or_plain;
  co_await raw_handshake(s, asio::ssl::stream_base::client);
  asio::streambuf in;
  for (int i = 0; i < trips; ++i) {
    co_await asio::async_write(s, asio::buffer(message), asio::use_awaitable);
    auto n = co_await asio::async_read_until(s, in, '\n', asio::use_awaitable);
    check_echo(std::string(asio::buffers_begin(in.data()), asio::buffers_begin(in.data()) + n));
    in.consume(n);
    echoed += n;
  }
}

void check_echoed(long echoed, int trips) {
  check(echoed == long(echo_clients) * trips * long(message.size()), "{} bytes echoed", echoed);
}

template <class Stream>
sample w5_raw(int trips) {
  raw_loop loop;
  asio::ip::tcp::acceptor acceptor(loop.ctx, {asio::ip::make_address("127.0.0.1"), 0});
  long echoed = 0;
  allocation_count allocs;
  auto start = clock_type::now();
  asio::co_spawn(loop.ctx, raw_echo_accept<Stream>(acceptor, echo_clients), rethrow);
  for (int c = 0; c < echo_clients; ++c)
    asio::co_spawn(loop.ctx, raw_echo_client<Stream>(acceptor.local_endpoint(), trips, echoed),
                   rethrow);
  loop.ctx.run();
  double units = double(echo_clients) * trips;
  sample s{seconds_since(start) * 1e6 / units, allocs.per(units)};
  check_echoed(echoed, trips);
  return s;
}

asyncio::coroutine<void> echo_session(asyncio::stream_reader r, asyncio::stream_writer w) {
  for (;;) {
    auto line = co_await r.readline();
    if (line.empty()) co_return;
    w.write(line);
    co_await w.drain();
  }
}

asyncio::coroutine<std::pair<asyncio::stream_reader, asyncio::stream_writer>> connect(
    std::uint16_t port, bool over_tls) {
  if (over_tls)
    co_return co_await asyncio::open_connection("127.0.0.1", port,
                                                asyncio::ssl_options(tls().client));
  co_return co_await asyncio::open_connection("127.0.0.1", port);
}

asyncio::coroutine<void> echo_client(std::uint16_t port, bool over_tls, int trips, long& echoed) {
  auto [r, w] = co_await connect(port, over_tls);
  for (int i = 0; i < trips; ++i) {
    w.write(message);
    co_await w.drain();
    auto line = co_await r.readline();
    check_echo(line);
    echoed += long(line.size());
  }
  w.close();
}

asyncio::coroutine<asyncio::server> listen(bool over_tls) {
  if (over_tls)
    co_return co_await asyncio::start_server(echo_session, "127.0.0.1", 0,
                                             asyncio::ssl_options(tls().server));
  co_return co_await asyncio::start_server(echo_session, "127.0.0.1", 0);
}

asyncio::coroutine<sample> w5_main(int trips, bool over_tls) {
  auto server = co_await listen(over_tls);
  long echoed = 0;
  allocation_count allocs;
  auto start = clock_type::now();
  std::vector<asyncio::task<>> clients;
  for (int c = 0; c < echo_clients; ++c)
    clients.push_back(asyncio::create_task(echo_client(server.port(), over_tls, trips, echoed)));
  co_await asyncio::gather(std::move(clients));
  double units = double(echo_clients) * trips;
  sample s{seconds_since(start) * 1e6 / units, allocs.per(units)};
  check_echoed(echoed, trips);
  co_return s;
}

sample w5_wrapped(int trips) { return asyncio::run(w5_main(trips, false)); }

sample w5_tls_wrapped(int trips) {
  tls();  // the certificates are made before the clock starts, as for the raw side
  return asyncio::run(w5_main(trips, true));
}

sample w5_tls_raw(int trips) {
  tls();
  return w5_raw<tls_socket>(trips);
}

// ---- W6: one loop per core: W1 and W5 on every loop of a loop_group at once ----

asyncio::coroutine<void> w1_part(int n) { co_await w1_main(n); }  // checks its own sum

// W1 with n tasks on each of `loops` loops at once: tasks/s over them all.
sample w6_spawn(int n, int loops) {
  asyncio::loop_group group(static_cast<std::size_t>(loops));
  allocation_count allocs;
  auto start = clock_type::now();
  group.run([n](asyncio::event_loop&, std::size_t) { return w1_part(n); });
  return {per(double(n) * loops, seconds_since(start)), allocs.per(double(n) * loops)};
}

// W5 on `loops` loops: each listens on one port (reuse_port) and runs its share of the 50
// clients, whose connections the kernel spreads over the loops' servers. A loop closes its
// server once every loop's clients are done.
struct echo_group {
  echo_group(int loops, int trips) : loops(loops), trips(trips), echoed(loops) {
    for (int i = 0; i < loops; ++i)
      finished.push_back(std::make_unique<asyncio::threadsafe_queue<int>>());
  }
  int loops, trips;
  asyncio::threadsafe_queue<std::uint16_t> port;                          // loop 0's, to the others
  std::vector<std::unique_ptr<asyncio::threadsafe_queue<int>>> finished;  // one per loop
  std::vector<long> echoed;  // each loop's, touched by its thread only
};

asyncio::coroutine<void> w6_echo_part(echo_group* g, std::size_t i) {
  std::uint16_t port = 0;
  if (i > 0) port = co_await g->port.get();
  auto server =
      co_await asyncio::start_server(echo_session, "127.0.0.1", port, {.reuse_port = true});
  if (i == 0)
    for (int j = 1; j < g->loops; ++j) g->port.put_nowait(server.port());
  std::vector<asyncio::task<>> clients;
  for (int c = static_cast<int>(i); c < echo_clients; c += g->loops)
    clients.push_back(
        asyncio::create_task(echo_client(server.port(), false, g->trips, g->echoed[i])));
  co_await asyncio::gather(std::move(clients));
  for (auto& f : g->finished) f->put_nowait(1);
  for (int j = 0; j < g->loops; ++j) co_await g->finished[i]->get();
  server.close();
}

// Echo round trips per second over all loops.
sample w6_echo(int trips, int loops) {
  echo_group g(loops, trips);
  asyncio::loop_group group(static_cast<std::size_t>(loops));
  allocation_count allocs;
  auto start = clock_type::now();
  group.run([&g](asyncio::event_loop&, std::size_t i) { return w6_echo_part(&g, i); });
  double units = double(echo_clients) * trips;
  sample s{per(units, seconds_since(start)), allocs.per(units)};
  check_echoed(std::accumulate(g.echoed.begin(), g.echoed.end(), 0L), trips);
  return s;
}

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
  // Asio's per-thread cache of coroutine frames fills here: a block freed by one cycle may be
  // too small for the next frame asked of it, so it takes a few.
  for (int i = 0; i < 3; ++i) co_await cycle(thing);
  allocation_count allocs;
  for (int i = 0; i < n; ++i) co_await cycle(thing);
  co_return allocs.per(n);
}

// ---- the workloads and the three ways to run them ----

using measure = sample (*)(int);

struct workload {
  std::string id, title, unit;
  bool higher_is_better;
  int n;
  std::map<std::string, measure> sides;  // "raw-asio", "asyncio-cpp", maybe "raw-asio-no-reactor"
};

/// A workload run on 1 loop and on every loop of a loop_group: how it scales.
struct scaling {
  std::string id, title, unit;
  int n;
  sample (*measure)(int n, int loops);
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

/// One measurement in a fresh forked process.
sample isolated(measure m, int n) {
  return demo::isolated([=] { return m(n); });
}

/// The cost of `b` over `a`: > 1 means b is slower or bigger.
double cost_ratio(const workload& w, double a, double b) {
  return w.higher_is_better ? a / b : b / a;
}

/// W6: each scaling workload on 1 loop and on `loops`, alternating, medians; rate over all
/// loops, and the factor.
boost::json::array print_scaling(const std::vector<scaling>& workloads, int loops, int repeat) {
  boost::json::array rows;
  fmt::print("\n{:<26} {:>9} {:>11} {:>11} {:>8}\n", "one loop per core", "n", "1 loop",
             fmt::format("{} loops", loops), "scaling");
  for (const auto& w : workloads) {
    std::vector<double> one, all;
    for (int r = 0; r < repeat; ++r)
      for (int k = 0; k < 2; ++k) {
        bool group = (r + k) % 2 == 1;
        auto s = demo::isolated([&] { return w.measure(w.n, group ? loops : 1); });
        (group ? all : one).push_back(s.value);
      }
    double a = median(one), b = median(all);
    fmt::print("{:<26} {:>9} {:>11.4g} {:>11.4g} {:>7.2f}x\n", w.id + " " + w.title, w.n, a, b,
               b / a);
    rows.push_back({{"workload", w.id},
                    {"title", w.title},
                    {"n", w.n},
                    {"unit", w.unit},
                    {"loops", loops},
                    {"one_loop", a},
                    {"all_loops", b},
                    {"scaling", b / a},
                    {"runs",
                     {{"one_loop", boost::json::value_from(one)},
                      {"all_loops", boost::json::value_from(all)}}}});
  }
  fmt::print(
      "units: W6 tasks/s over all loops (n tasks on each), W6E echo round trips/s (50 clients\n"
      "spread over the loops, each loop listening on one port with reuse_port); scaling = all\n"
      "loops' rate over one loop's ({} cores here).\n",
      std::thread::hardware_concurrency());
  return rows;
}

int print_table(const std::vector<workload>& workloads, const std::vector<scaling>& scalings,
                int loops, int repeat, const std::string& json_path, int argc, char** argv) {
  boost::json::array rows;
  fmt::print("{:<26} {:>9} {:>11} {:>11} {:>7}   {:>12}\n", "workload", "n", "raw Asio",
             "asyncio-cpp", "ratio", "allocs/unit");
  auto row = [&](const workload& w, const std::string& label, const std::string& raw_side) {
    std::vector<double> raw, wrapped, raw_allocs, wrapped_allocs;
    for (int r = 0; r < repeat; ++r) {
      // Alternate which side goes first, so drift and warm caches favour neither.
      for (int k = 0; k < 2; ++k) {
        bool ours = (r + k) % 2 == 1;
        auto s = isolated(w.sides.at(ours ? "asyncio-cpp" : raw_side), w.n);
        (ours ? wrapped : raw).push_back(s.value);
        (ours ? wrapped_allocs : raw_allocs).push_back(s.allocations);
      }
    }
    double a = median(raw), b = median(wrapped), ratio = cost_ratio(w, a, b);
    double aa = median(raw_allocs), ba = median(wrapped_allocs);
    fmt::print("{:<26} {:>9} {:>11.4g} {:>11.4g} {:>6.3f}x   {:>5.3g} {:>6.3g}\n", label, w.n, a, b,
               ratio, aa, ba);
    rows.push_back({{"workload", w.id},
                    {"title", label},
                    {"n", w.n},
                    {"unit", w.unit},
                    {"raw_side", raw_side},
                    {"raw_asio", a},
                    {"asyncio_cpp", b},
                    {"cost_ratio", ratio},
                    {"allocations_per_unit", {{"raw_asio", aa}, {"asyncio_cpp", ba}}},
                    {"runs",
                     {{"raw_asio", boost::json::value_from(raw)},
                      {"asyncio_cpp", boost::json::value_from(wrapped)}}}});
  };
  for (const auto& w : workloads) row(w, w.id + " " + w.title, "raw-asio");
  for (const auto& w : workloads)
    if (w.sides.count("raw-asio-no-reactor"))
      row(w, w.id + " raw without a reactor", "raw-asio-no-reactor");
  fmt::print(
      "units: W1 tasks/s, W2 ms beyond the 100 ms sleep, W3 RSS bytes per waiting task, W4 and "
      "W4X\n"
      "ns per handoff, W5 us per echo round trip; ratio = asyncio-cpp's cost over raw Asio's "
      "(medians of\n"
      "{} runs); allocs/unit = heap allocations per task, handoff or round trip (raw, ours).\n"
      "'raw without a reactor': an io_context with no timer or socket never polls epoll; no real\n"
      "program runs so (asyncio::run has a signal handler), shown for what it costs.\n",
      repeat);
  auto scaled = print_scaling(scalings, loops, repeat);

  // Counts, not timings: one run of each is exact.
  const int cycles = 100'000;
  auto count = [&](auto cycle) {
    return demo::isolated([&] { return asyncio::run(allocations_per(cycle, cycles)); });
  };
  double lock_allocs = count(lock_cycle), queue_allocs = count(queue_cycle);
  fmt::print("heap allocations per uncontended lock acquire+release: {:g}, queue put+get: {:g}\n",
             lock_allocs, queue_allocs);

  if (!json_path.empty()) {
    auto json = bench::stamp(argc, argv);
    json["repeat"] = repeat;
    json["results"] = rows;
    json["scaling"] = scaled;
    json["allocations_per_uncontended_op"] = {{"lock_acquire_release", lock_allocs},
                                              {"queue_put_get", queue_allocs}};
    if (!demo::write_file(json_path, boost::json::serialize(json) + "\n")) return 1;
  }
  return 0;
}

/// One run of one side under a tool (valgrind or strace) that writes its report to a log
/// file; the log's text.
std::string run_under(std::vector<std::string> tool, const std::string& side,
                      const std::string& workload, int n) {
  static const std::string self = [] {  // valgrind would read its own /proc/self/exe
    char path[4096];
    auto len = ::readlink("/proc/self/exe", path, sizeof path - 1);
    return std::string(path, len > 0 ? len : 0);
  }();
  auto log = fmt::format("/tmp/asyncio-bench-{}.log", ::getpid());
  for (auto& arg : tool)
    if (auto at = arg.find("{log}"); at != std::string::npos) arg.replace(at, 5, log);
  tool.insert(tool.end(), {self, "--workload", workload, "--side", side, "--n", std::to_string(n)});
  auto result = bench::run_program(tool);
  std::ifstream in(log);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  std::remove(log.c_str());
  if (result.status != 0 || text.empty())
    throw std::runtime_error(
        fmt::format("'{}' failed on {} {} (is it installed?)", tool[0], side, workload));
  return text;
}

/// Instructions one run executes, as callgrind counts them (startup included).
double instructions(const std::string& side, const std::string& workload, int n) {
  auto log = run_under(
      {"valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", "--log-file={log}"}, side,
      workload, n);
  auto at = log.find("Collected :");
  if (at == std::string::npos) throw std::runtime_error("callgrind reported no count");
  return std::stod(log.substr(at + 11));
}

/// System calls one run makes, all and epoll_wait alone, as `strace -c -f` counts them.
std::pair<double, double> system_calls(const std::string& side, const std::string& workload,
                                       int n) {
  std::istringstream log(run_under({"strace", "-c", "-f", "-o", "{log}"}, side, workload, n));
  double total = -1, epoll = 0;
  for (std::string line; std::getline(log, line);) {
    std::istringstream words(line);
    std::vector<std::string> w{std::istream_iterator<std::string>(words), {}};
    if (w.size() < 5) continue;  // % time, seconds, usecs/call, calls, [errors], name
    if (w.back() == "total") total = std::stod(w[3]);
    if (w.back() == "epoll_wait") epoll = std::stod(w[3]);
  }
  if (total < 0) throw std::runtime_error("strace reported no total");
  return {total, epoll};
}

// What --instructions counts: a run at `large` minus a run at `small` (startup subtracted),
// over the units between them. W4X and W5 start at a size above 0 (n = 0 is no run for them);
// W5T's subtraction takes out its 50 handshakes too (EC keys: their counts repeat as well).
struct counted_run {
  std::string id, per;
  int large, small;
  double units;
};

std::vector<counted_run> counted_runs(int n) {
  return {{"W1", "task", n, 0, double(n)},
          {"W4", "handoff", n, 0, 2.0 * n},  // n round trips = 2n handoffs
          {"W4X", "handoff", n / 5, n / 10, 2.0 * (n / 5 - n / 10)},
          {"W5", "round trip", n / 50, n / 100, double(echo_clients) * (n / 50 - n / 100)},
          {"W5T", "round trip", n / 50, n / 100, double(echo_clients) * (n / 50 - n / 100)}};
}

int print_instructions(const std::vector<workload>& workloads, int n, const std::string& json_path,
                       int argc, char** argv) {
  fmt::print(
      "Per W1 task, W4 and W4X handoff, W5 and W5T round trip: a run at a size minus a run\n"
      "at a smaller one (W1, W4: n={} and 0; W4X: {} and {} round trips; W5, W5T: {} and {} "
      "trips a client):\n",
      n, n / 5, n / 10, n / 50, n / 100);
  fmt::print("{:<28} {:>10} {:>12} {:>22} {:>7}\n", "", "raw Asio", "asyncio-cpp",
             "raw without a reactor", "ratio");
  boost::json::array out;
  for (const auto& c : counted_runs(n)) {
    const auto& w = *std::find_if(workloads.begin(), workloads.end(),
                                  [&](const workload& w) { return w.id == c.id; });
    boost::json::object row{
        {"workload", c.id}, {"per", c.per}, {"n", c.large}, {"minus_n", c.small}};
    std::map<std::string, std::array<double, 3>> per;  // instructions, system calls, epoll_wait
    for (const auto& [side, measure] : w.sides) {
      auto [calls_n, epoll_n] = system_calls(side, c.id, c.large);
      auto [calls_0, epoll_0] = system_calls(side, c.id, c.small);
      per[side] = {
          (instructions(side, c.id, c.large) - instructions(side, c.id, c.small)) / c.units,
          (calls_n - calls_0) / c.units, (epoll_n - epoll_0) / c.units};
      row[side] = {{"instructions", per[side][0]},
                   {"system_calls", per[side][1]},
                   {"epoll_wait", per[side][2]}};
    }
    const char* what[] = {"instructions", "system calls", "of them epoll_wait"};
    for (int k = 0; k < 3; ++k) {
      auto shown = [&](const std::string& side) {
        if (!per.count(side)) return std::string("-");
        return k ? fmt::format("{:.2f}", per[side][k]) : fmt::format("{:.0f}", per[side][k]);
      };
      // A ratio of near-zero counts (W1 makes a system call per thousands of tasks) says nothing.
      double ratio = per["raw-asio"][k] >= 0.05 ? per["asyncio-cpp"][k] / per["raw-asio"][k] : NAN;
      fmt::print("{:<28} {:>10} {:>12} {:>22} {:>7}\n", fmt::format("{} {}", c.id, what[k]),
                 shown("raw-asio"), shown("asyncio-cpp"), shown("raw-asio-no-reactor"),
                 std::isfinite(ratio) ? fmt::format("{:.3f}x", ratio) : "-");
    }
    row["instructions_ratio"] = per["asyncio-cpp"][0] / per["raw-asio"][0];
    out.push_back(row);
  }
  fmt::print(
      "instructions: callgrind (user space only, repeatable to a few); system calls: strace -c -f."
      "\n");
  if (!json_path.empty()) {
    auto json = bench::stamp(argc, argv);
    json["n"] = n;
    json["per_unit"] = out;
    if (!demo::write_file(json_path, boost::json::serialize(json) + "\n")) return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  int spawn_n = 0, sleep_n = 0, memory_n = 0, handoff_n = 0, cross_n = 0, trips_n = 0, repeat = 0;
  int instructions_n = 0, one_n = 0;
  int loops = static_cast<int>(std::max(2u, std::thread::hardware_concurrency()));
  std::string json_path, one_workload, one_side;
  demo::po::options_description options("Options");
  // clang-format off
  options.add_options()
      ("spawn-tasks", demo::number(&spawn_n, 1, 10'000'000)->default_value(200'000), "W1 tasks")
      ("sleep-tasks", demo::number(&sleep_n, 1, 10'000'000)->default_value(100'000), "W2 tasks")
      ("memory-tasks", demo::number(&memory_n, 1, 10'000'000)->default_value(100'000), "W3 tasks")
      ("round-trips", demo::number(&handoff_n, 1, 10'000'000)->default_value(500'000), "W4 round trips (2 handoffs each)")
      ("cross-trips", demo::number(&cross_n, 1, 10'000'000)->default_value(20'000), "W4X round trips (2 handoffs each)")
      ("echo-trips", demo::number(&trips_n, 1, 10'000'000)->default_value(1'000), "W5 echo round trips per client (50 clients)")
      ("loops", demo::number(&loops, 2, 256)->default_value(loops), "W6: the loop_group's loops (default: one per core, at least 2)")
      ("repeat", demo::number(&repeat, 1, 100)->default_value(5), "runs of each; the median is kept")
      ("json", demo::output(&json_path), "also write the results to this JSON file")
      ("instructions", demo::number(&instructions_n, 100, 1'000'000)->implicit_value(20'000),
       "instead: instructions (callgrind) and system calls (strace) per W1 task, W4 and W4X "
       "handoff and W5 and W5T round trip")
      ("workload", demo::po::value(&one_workload), "instead: one run of W1..W5T, one JSON line")
      ("side", demo::po::value(&one_side)->default_value("asyncio-cpp"),
       "with --workload: asyncio-cpp, raw-asio or raw-asio-no-reactor (W4)")
      ("n", demo::po::value(&one_n)->default_value(1000), "with --workload: its size (0 allowed)");
  // clang-format on
  auto vm = demo::parse(
      argc, argv,
      "wrappers_vs_asio: the same workloads through asyncio-cpp and raw Asio, in one run.",
      options);
  if (vm.count("instructions") && vm.count("workload"))
    demo::usage_error(argv[0], "--instructions and --workload are two different runs");

  const std::vector<workload> workloads = {
      {"W1",
       "spawn+yield+gather",
       "tasks/s",
       true,
       spawn_n,
       {{"raw-asio", w1_raw}, {"asyncio-cpp", w1_wrapped}}},
      {"W2",
       "100 ms sleeps",
       "ms over 100 ms",
       false,
       sleep_n,
       {{"raw-asio", w2_raw}, {"asyncio-cpp", w2_wrapped}}},
      {"W3",
       "waiting task",
       "bytes/task",
       false,
       memory_n,
       {{"raw-asio", w3_raw}, {"asyncio-cpp", w3_wrapped}}},
      {"W4",
       "queue handoff",
       "ns/handoff",
       false,
       handoff_n,
       {{"raw-asio", w4_raw},
        {"asyncio-cpp", w4_wrapped},
        {"raw-asio-no-reactor", w4_raw_no_reactor}}},
      {"W4X",
       "queue handoff across loops",
       "ns/handoff",
       false,
       cross_n,
       {{"raw-asio", w4x_raw}, {"asyncio-cpp", w4x_wrapped}}},
      {"W5",
       "echo over loopback",
       "us/round trip",
       false,
       trips_n,
       {{"raw-asio", w5_raw<asio::ip::tcp::socket>}, {"asyncio-cpp", w5_wrapped}}},
      {"W5T",
       "echo over loopback, TLS",
       "us/round trip",
       false,
       trips_n,
       {{"raw-asio", w5_tls_raw}, {"asyncio-cpp", w5_tls_wrapped}}},
  };

  const std::vector<scaling> scalings = {
      {"W6", "spawn+yield+gather", "tasks/s", spawn_n, w6_spawn},
      {"W6E", "echo, reuse_port", "round trips/s", trips_n, w6_echo},
  };

  try {
    if (vm.count("instructions"))
      return print_instructions(workloads, instructions_n, json_path, argc, argv);
    if (vm.count("workload")) {
      auto w = std::find_if(workloads.begin(), workloads.end(),
                            [&](const workload& w) { return w.id == one_workload; });
      if (w == workloads.end())
        demo::usage_error(argv[0], "--workload must be W1, W2, W3, W4, W4X, W5 or W5T");
      if (!w->sides.count(one_side))
        demo::usage_error(argv[0], "no side " + one_side + " for " + w->id);
      if (one_n < 0 || one_n > 10'000'000 || (one_n == 0 && w->id != "W1" && w->id != "W4"))
        demo::usage_error(argv[0], "--n must be 1-10000000 (0 only for W1 and W4)");
      auto s = w->sides.at(one_side)(one_n);
      fmt::print("{}\n", boost::json::serialize(
                             boost::json::object{{"peer", one_side},
                                                 {"workload", w->id},
                                                 {"n", one_n},
                                                 {"value", s.value},
                                                 {"unit", w->unit},
                                                 {"allocations_per_unit", s.allocations}}));
      return 0;
    }
    return print_table(workloads, scalings, loops, repeat, json_path, argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", argv[0], e.what());
    return 1;
  }
}
