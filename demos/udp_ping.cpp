// UDP, awaited: a ping client and an echo endpoint on loopback, one thread, round trips timed
// and losses counted.
//
// The same program in Python needs two protocol classes and futures to wait on; here
// recvfrom() is awaited:
//
//   transport, proto = await loop.create_datagram_endpoint(Echo, local_addr=("127.0.0.1", 0))
//   ... for each ping: transport.sendto(b"ping 7", addr); await asyncio.wait_for(pong, 0.2)
//
// The echo side can drop every Nth ping on purpose (--drop-every), so that a loss shows, and
// the client's count of lost pings must match the pings the echo side dropped.

#include <asyncio.hpp>

#include "support/cli.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <charconv>

namespace {

using asyncio::host_port;
using clock_type = std::chrono::steady_clock;

struct config {
  int pings, drop_every;
  std::chrono::milliseconds wait;
};

// Answers each ping with "pong N", except every drop_every-th; counts what it dropped.
asyncio::coroutine<void> echo(asyncio::datagram_endpoint& ep, int drop_every, int* dropped) {
  for (int seen = 1;; ++seen) {
    auto ping = co_await ep.recvfrom();
    if (drop_every > 0 && seen % drop_every == 0) {
      ++*dropped;
      continue;
    }
    ep.sendto("pong" + ping.data.substr(4), ping.addr);
  }
}

// The sequence number in "pong N", or -1.
int number_in(const std::string& pong) {
  int n = -1;
  if (pong.rfind("pong ", 0) == 0) std::from_chars(pong.data() + 5, pong.data() + pong.size(), n);
  return n;
}

// Waits for the pong of ping `seq`; a late pong of an earlier ping is skipped.
asyncio::coroutine<void> pong_of(asyncio::datagram_endpoint& ep, int seq) {
  for (;;) {
    auto got = co_await ep.recvfrom();
    if (number_in(got.data) == seq) co_return;
  }
}

asyncio::coroutine<int> amain(config c) {
  auto server = co_await asyncio::open_datagram_endpoint(host_port{"127.0.0.1", 0});
  int dropped = 0;
  auto echoing = asyncio::create_task(echo(server, c.drop_every, &dropped));
  auto client = co_await asyncio::open_datagram_endpoint(
      std::nullopt, host_port{"127.0.0.1", server.local_address().port()});
  fmt::print("udp_ping: {} pings to 127.0.0.1:{}, waiting {} ms for each pong\n", c.pings,
             server.local_address().port(), c.wait.count());

  std::vector<double> rtts;
  int lost = 0;
  for (int seq = 0; seq < c.pings; ++seq) {
    auto start = clock_type::now();
    client.send(fmt::format("ping {}", seq));
    try {
      co_await asyncio::wait_for(pong_of(client, seq), c.wait);
      rtts.push_back(std::chrono::duration<double, std::micro>(clock_type::now() - start).count());
    } catch (const asyncio::timeout_error&) {
      ++lost;
    }
  }
  echoing.cancel();
  try {
    co_await *echoing;
  } catch (const asyncio::cancelled_error&) {
  }

  std::sort(rtts.begin(), rtts.end());
  fmt::print("  answered {}, lost {} ({:.1f}%)\n", rtts.size(), lost, 100.0 * lost / c.pings);
  if (!rtts.empty()) {
    double sum = 0;
    for (double r : rtts) sum += r;
    fmt::print("  round trip: min {:.0f} us, median {:.0f} us, mean {:.0f} us, max {:.0f} us\n",
               rtts.front(), rtts[rtts.size() / 2], sum / rtts.size(), rtts.back());
  }
  const bool counted = lost == dropped;
  fmt::print("  the echo side dropped {} on purpose; every loss accounted for: {}\n", dropped,
             counted ? "yes" : "NO");
  co_return counted ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  config c;
  long wait_ms;
  demo::po::options_description options("Options");
  // clang-format off
  options.add_options()
      ("pings", demo::number(&c.pings, 1, 100'000)->default_value(100), "pings to send (1-100000)")
      ("drop-every", demo::number(&c.drop_every, 0, 100'000)->default_value(10), "the echo side ignores every Nth ping (0: none)")
      ("wait-ms", demo::number(&wait_ms, 1L, 10'000L)->default_value(200), "how long to wait for each pong (1-10000)");
  // clang-format on
  demo::parse(argc, argv,
              "udp_ping: pings over UDP on loopback, awaited, with round trips and losses counted.",
              options);
  c.wait = std::chrono::milliseconds(wait_ms);
  if (double(c.pings) * wait_ms > 3'600'000)
    demo::usage_error(argv[0], "--pings x --wait-ms would take over an hour");
  return asyncio::run(amain(c));
}
