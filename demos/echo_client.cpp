// Streams: many echo clients at once, on one thread.
//
// The same program in Python:
//
//   async def client(n):
//       reader, writer = await asyncio.open_connection("127.0.0.1", port)
//       for i in range(n):
//           writer.write(f"message {i}\n".encode())
//           await writer.drain()
//           assert await reader.readline() == f"message {i}\n".encode()
//       writer.close()
//       await writer.wait_closed()
//
//   await asyncio.gather(*(client(10) for _ in range(100)))
//
// --port - reads the port from a first line "listening on HOST:PORT" on standard input:
//   echo_server --connections 100 | echo_client --port - --clients 100

#include <asyncio.hpp>

#include "support/cli.hpp"

#include <fmt/core.h>

#include <charconv>
#include <iostream>

namespace {

using clock_type = std::chrono::steady_clock;

asyncio::coroutine<int> client(std::string host, std::uint16_t port, int id, int messages) {
  auto [reader, writer] = co_await asyncio::open_connection(host, port);
  int echoed = 0;
  for (int i = 0; i < messages; ++i) {
    auto message = fmt::format("client {} message {}\n", id, i);
    writer.write(message);
    co_await writer.drain();
    auto answer = co_await reader.readline();
    echoed += answer == message;
  }
  writer.close();
  co_await writer.wait_closed();
  co_return echoed;
}

asyncio::coroutine<int> run_clients(std::string host, std::uint16_t port, int clients,
                                    int messages) {
  auto start = clock_type::now();
  std::vector<asyncio::task<int>> tasks;
  for (int id = 0; id < clients; ++id)
    tasks.push_back(asyncio::create_task(client(host, port, id, messages)));
  auto echoed = co_await asyncio::gather(tasks);
  double s = std::chrono::duration<double>(clock_type::now() - start).count();
  long total = 0;
  for (int e : echoed) total += e;
  const long expected = long(clients) * messages;
  fmt::print("{} clients x {} messages to {}:{}, all on one thread\n", clients, messages, host,
             port);
  fmt::print("  every message echoed: {} ({} of {})\n", total == expected ? "yes" : "NO", total,
             expected);
  fmt::print("  {:.1f} ms in all, {:.0f} round trips/s\n", s * 1000, total / s);
  co_return total == expected ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  namespace po = demo::po;
  std::string host, port_text;
  int clients, messages;
  po::options_description options("Options");
  // clang-format off
  options.add_options()
      ("host", po::value(&host)->default_value("127.0.0.1"), "server address")
      ("port", po::value(&port_text)->required(), "server port, or - to read it from stdin")
      ("clients", demo::number(&clients, 1, 10'000)->default_value(100), "clients at once (1-10000)")
      ("messages", demo::number(&messages, 1, 100'000)->default_value(10), "lines each sends (1-100000)");
  // clang-format on
  demo::parse(argc, argv, "echo_client: many clients of an echo server, on one thread.", options);
  if (port_text == "-") {  // "listening on HOST:PORT", from echo_server
    std::string line;
    std::getline(std::cin, line);
    auto colon = line.rfind(':');
    if (line.rfind("listening on ", 0) != 0 || colon == std::string::npos)
      demo::usage_error(argv[0], "expected 'listening on HOST:PORT' on stdin, got '" + line + "'");
    port_text = line.substr(colon + 1);
  }
  int port = 0;
  const char* end = port_text.data() + port_text.size();
  auto [stop, error] = std::from_chars(port_text.data(), end, port);  // the whole text, or bad
  if (error != std::errc() || stop != end || port < 1 || port > 65535)
    demo::usage_error(argv[0], "--port must be 1-65535 or -, not '" + port_text + "'");
  try {
    return asyncio::run(run_clients(host, static_cast<std::uint16_t>(port), clients, messages));
  } catch (const boost::system::system_error& e) {
    fmt::print(stderr, "{}: {}\n", argv[0], e.what());
    return 1;
  }
}
