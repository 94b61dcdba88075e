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
// --port - reads where to connect from echo_server's first line on standard input,
// "listening on HOST:PORT", "listening on HOST:PORT (TLS)" followed by the certificate to
// trust, or "listening on unix:PATH":
//   echo_server --connections 100 | echo_client --port - --clients 100

#include <asyncio.hpp>

#include "support/cli.hpp"

#include <fmt/core.h>

#include <charconv>
#include <iostream>

namespace {

using clock_type = std::chrono::steady_clock;

struct server_address {
  std::string host;
  std::uint16_t port = 0;
  std::string unix_path;                // instead of host and port
  asyncio::ssl_context* tls = nullptr;  // trusting the server's certificate
  std::string describe() const {
    if (!unix_path.empty()) return "unix:" + unix_path;
    return fmt::format("{}:{}{}", host, port, tls ? " over TLS" : "");
  }
};

asyncio::coroutine<std::pair<asyncio::stream_reader, asyncio::stream_writer>> connect(
    const server_address& to) {
  if (!to.unix_path.empty()) co_return co_await asyncio::open_unix_connection(to.unix_path);
  if (to.tls)
    co_return co_await asyncio::open_connection(to.host, to.port, asyncio::ssl_options(*to.tls));
  co_return co_await asyncio::open_connection(to.host, to.port);
}

asyncio::coroutine<int> client(const server_address& to, int id, int messages) {
  auto [reader, writer] = co_await connect(to);
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

asyncio::coroutine<int> run_clients(server_address to, int clients, int messages) {
  auto start = clock_type::now();
  std::vector<asyncio::task<int>> tasks;
  for (int id = 0; id < clients; ++id)
    tasks.push_back(asyncio::create_task(client(to, id, messages)));
  auto echoed = co_await asyncio::gather(tasks);
  double s = std::chrono::duration<double>(clock_type::now() - start).count();
  long total = 0;
  for (int e : echoed) total += e;
  const long expected = long(clients) * messages;
  fmt::print("{} clients x {} messages to {}, all on one thread\n", clients, messages,
             to.describe());
  fmt::print("  every message echoed: {} ({} of {})\n", total == expected ? "yes" : "NO", total,
             expected);
  fmt::print("  {:.1f} ms in all, {:.0f} round trips/s\n", s * 1000, total / s);
  co_return total == expected ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  namespace po = demo::po;
  std::string host, port_text, unix_path, cafile;
  int clients, messages;
  po::options_description options("Options");
  // clang-format off
  options.add_options()
      ("host", po::value(&host)->default_value("127.0.0.1"), "server address")
      ("port", po::value(&port_text), "server port, or - to read where from echo_server's output on stdin")
      ("unix", po::value(&unix_path), "connect to the Unix socket at this path instead")
      ("tls", "TLS, trusting the certificate echo_server printed (with --port -) or --cafile")
      ("cafile", po::value(&cafile), "with --tls: trust the certificates in this PEM file")
      ("clients", demo::number(&clients, 1, 10'000)->default_value(100), "clients at once (1-10000)")
      ("messages", demo::number(&messages, 1, 100'000)->default_value(10), "lines each sends (1-100000)");
  // clang-format on
  auto vm = demo::parse(argc, argv, "echo_client: many clients of an echo server, on one thread.",
                        options);
  const bool tls = vm.count("tls") > 0;
  std::string certificate;  // the one to trust, from echo_server's output
  if (port_text == "-") {   // "listening on HOST:PORT[ (TLS)]" or "listening on unix:PATH"
    std::string line;
    std::getline(std::cin, line);
    const std::string prefix = "listening on ";
    if (line.rfind(prefix, 0) != 0)
      demo::usage_error(argv[0], "expected 'listening on ...' on stdin, got '" + line + "'");
    auto at = line.substr(prefix.size());
    if (at.rfind("unix:", 0) == 0) {
      unix_path = at.substr(5);
      port_text.clear();
    } else {
      if (at.size() > 6 && at.substr(at.size() - 6) == " (TLS)") at.resize(at.size() - 6);
      auto colon = at.rfind(':');
      if (colon == std::string::npos) demo::usage_error(argv[0], "no port in '" + line + "'");
      host = at.substr(0, colon);
      port_text = at.substr(colon + 1);
      for (std::string pem; tls && std::getline(std::cin, pem);) {
        certificate += pem + "\n";
        if (pem.rfind("-----END CERTIFICATE-----", 0) == 0) break;
      }
    }
  }
  server_address to{host, 0, unix_path, nullptr};
  if (unix_path.empty()) {
    int port = 0;
    const char* end = port_text.data() + port_text.size();
    auto [stop, error] = std::from_chars(port_text.data(), end, port);  // the whole text, or bad
    if (port_text.empty() || error != std::errc() || stop != end || port < 1 || port > 65535)
      demo::usage_error(argv[0], "--port must be 1-65535 or -, not '" + port_text + "'");
    to.port = static_cast<std::uint16_t>(port);
  } else if (tls) {
    demo::usage_error(argv[0], "--tls is for TCP, not --unix");
  }
  if (tls && certificate.empty() && cafile.empty())
    demo::usage_error(argv[0], "--tls needs --port - (echo_server's certificate) or --cafile");
  std::optional<asyncio::ssl_context> trust;
  try {
    if (tls) {
      trust.emplace(asyncio::create_default_context());
      if (!certificate.empty()) trust->add_certificate_authority(boost::asio::buffer(certificate));
      if (!cafile.empty()) trust->load_verify_file(cafile);
      to.tls = &*trust;
    }
    return asyncio::run(run_clients(to, clients, messages));
  } catch (const std::exception& e) {
    fmt::print(stderr, "{}: {}\n", argv[0], e.what());
    return 1;
  }
}
