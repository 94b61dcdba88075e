// Streams: an echo server serving many clients at once on one thread.
//
// The same program in Python:
//
//   async def handle(reader, writer):
//       while line := await reader.readline():      # b"" at the end of the stream
//           writer.write(line)
//           await writer.drain()                    # back-pressure from a slow client
//       writer.close()
//
//   server = await asyncio.start_server(handle, "127.0.0.1", 8888)
//   ...                                             # serve until done or out of time
//   server.close()
//   server.close_clients()                          # 3.13: idle clients too
//   try:
//       await asyncio.wait_for(server.wait_closed(), 1)
//   except TimeoutError:
//       server.abort_clients()                      # what was not sent is dropped
//       await server.wait_closed()
//
// It prints "listening on HOST:PORT" (or "listening on unix:PATH") on standard output, so that
// `echo_server | echo_client --port -` works, its report on standard error, and ends on its
// own: after --connections connections, or after --seconds. With --tls it makes a self-signed
// certificate on the fly and prints it after that line, for the client to trust.

#include <asyncio.hpp>

#include "support/certificates.hpp"
#include "support/cli.hpp"

#include <fmt/core.h>

#include <cstdio>

namespace {

struct stats {
  long connections = 0, lines = 0, bytes = 0;
  long stop_after = 0;
  asyncio::event done;
};

asyncio::coroutine<void> handle(asyncio::stream_reader reader, asyncio::stream_writer writer,
                                stats* s) {
  for (;;) {
    auto line = co_await reader.readline();
    if (line.empty()) break;
    ++s->lines;
    s->bytes += static_cast<long>(line.size());
    writer.write(line);
    co_await writer.drain();
  }
  if (++s->connections == s->stop_after) s->done.set();
}

struct where {
  std::string host;
  std::uint16_t port;
  std::string unix_path;  // instead of host and port
  bool tls;
};

// Listens as asked, and says where on standard output.
asyncio::coroutine<asyncio::server> listen(where at, asyncio::client_connected_cb cb,
                                           asyncio::ssl_context* tls) {
  std::optional<asyncio::server> server;
  if (!at.unix_path.empty()) {
    server = co_await asyncio::start_unix_server(cb, at.unix_path);
    fmt::print("listening on unix:{}\n", at.unix_path);
  } else if (tls) {
    server = co_await asyncio::start_server(cb, at.host, at.port, asyncio::ssl_options(*tls));
    fmt::print("listening on {}:{} (TLS)\n", at.host, server->port());
  } else {
    server = co_await asyncio::start_server(cb, at.host, at.port);
    fmt::print("listening on {}:{}\n", at.host, server->port());
  }
  co_return std::move(*server);
}

asyncio::coroutine<int> serve(where at, long connections, std::chrono::seconds limit) {
  stats s;
  s.stop_after = connections;
  asyncio::client_connected_cb cb = [&s](asyncio::stream_reader r, asyncio::stream_writer w) {
    return handle(r, w, &s);
  };
  std::optional<asyncio::ssl_context> tls;
  std::string certificate;
  if (at.tls) {  // a self-signed pair, made now; the client trusts this certificate alone
    auto pair = demo::certificate_authority::self_signed(at.host);
    tls.emplace(asyncio::ssl_context::tls_server);
    tls->use_certificate_chain(boost::asio::buffer(pair.cert));
    tls->use_private_key(boost::asio::buffer(pair.key), asyncio::ssl_context::pem);
    certificate = pair.cert;
  }
  auto server = co_await listen(at, cb, tls ? &*tls : nullptr);
  fmt::print("{}", certificate);
  std::fflush(stdout);
  auto done = s.done.wait();
  bool in_time = true;
  try {
    co_await asyncio::wait_for(std::move(done), limit);
  } catch (const asyncio::timeout_error&) {
    in_time = false;
  }
  // A bounded shutdown, as a service needs one: stop accepting, close every connection (a
  // client sitting idle would otherwise keep its handler waiting for ever), give what is being
  // sent a grace period, then drop it.
  server.close();
  server.close_clients();
  bool graceful = true;
  try {
    co_await asyncio::wait_for(server.wait_closed(), std::chrono::seconds(1));
  } catch (const asyncio::timeout_error&) {
    graceful = false;
  }
  if (!graceful) {
    server.abort_clients();
    co_await server.wait_closed();
  }
  fmt::print(stderr, "{}: served {} connections, {} lines, {} bytes; one thread did it all\n",
             in_time ? "done" : "time is up", s.connections, s.lines, s.bytes);
  co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
  namespace po = demo::po;
  std::string host, unix_path;
  int port;
  long connections, seconds;
  po::options_description options("Options");
  // clang-format off
  options.add_options()
      ("host", po::value(&host)->default_value("127.0.0.1"), "address to listen on")
      ("port", demo::number(&port, 0, 65535)->default_value(0), "port (0: any free one, printed)")
      ("connections", demo::number(&connections, 1L, 1'000'000L)->default_value(100), "end after serving this many (1-1000000)")
      ("seconds", demo::number(&seconds, 1L, 86'400L)->default_value(60), "end after this long at most (1-86400)")
      ("unix", po::value(&unix_path), "listen on a Unix socket at this path instead")
      ("tls", "TLS, with a self-signed certificate made now and printed for the client");
  // clang-format on
  auto vm = demo::parse(
      argc, argv, "echo_server: echoes every line back, for any number of clients, on one thread.",
      options);
  const where at{host, static_cast<std::uint16_t>(port), unix_path, vm.count("tls") > 0};
  if (at.tls && !unix_path.empty()) demo::usage_error(argv[0], "--tls is for TCP, not --unix");
  try {
    return asyncio::run(serve(at, connections, std::chrono::seconds(seconds)));
  } catch (const std::exception& e) {
    fmt::print(stderr, "{}: cannot listen: {}\n", argv[0], e.what());
    return 1;
  }
}
