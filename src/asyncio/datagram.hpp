#pragma once

// asyncio's UDP, awaitable instead of protocol callbacks (what Python users keep asking for,
// cpython#143341): open_datagram_endpoint() gives a datagram_endpoint whose recvfrom() is
// awaited and whose sendto() sends at once. The socket is a plain Asio udp::socket on the loop.

#include <asyncio/coroutine.hpp>

#include <boost/asio/ip/udp.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace asyncio {

namespace detail {
struct datagram_state;
}  // namespace detail

/// An address as Python writes one: (host, port).
using host_port = std::pair<std::string, std::uint16_t>;

/// One datagram received, and who sent it.
struct datagram {
  std::string data;
  boost::asio::ip::udp::endpoint addr;
};

/// asyncio's DatagramTransport and DatagramProtocol in one awaitable object.
class datagram_endpoint {
public:
  /// recvfrom(): the next datagram. An error the network reported for an earlier send (ICMP
  /// port unreachable, on a connected endpoint: boost::system::system_error, connection
  /// refused) arrives here, as Python's error_received(); the endpoint keeps working. Only one
  /// coroutine may wait at a time (std::runtime_error otherwise).
  [[nodiscard]] coroutine<datagram> recvfrom();
  /// sendto(data, addr): sends the datagram now, or queues it while the socket's buffer is
  /// full. One too big for UDP fails at once (boost::system::system_error, message too long).
  void sendto(std::string_view data, const boost::asio::ip::udp::endpoint& addr);
  /// send(data): to the remote address of a connected endpoint (std::logic_error if none).
  void send(std::string_view data);
  /// close(): a recvfrom() waiting, or a later one, throws boost::system::system_error (bad
  /// descriptor); datagrams still queued are dropped.
  void close();
  bool is_closing() const noexcept;
  /// get_extra_info("sockname") / ("peername").
  boost::asio::ip::udp::endpoint local_address() const;
  boost::asio::ip::udp::socket& socket() noexcept;

private:
  friend struct detail::datagram_state;
  explicit datagram_endpoint(std::shared_ptr<detail::datagram_state> s) noexcept
      : s_(std::move(s)) {}
  std::shared_ptr<detail::datagram_state> s_;
};

/// loop.create_datagram_endpoint(local_addr=, remote_addr=): binds to local_addr (port 0: any
/// free port) and, with remote_addr, connects to it (then send() and ICMP errors work). With no
/// local_addr, the socket takes remote_addr's family and any free port.
[[nodiscard]] coroutine<datagram_endpoint> open_datagram_endpoint(
    std::optional<host_port> local_addr, std::optional<host_port> remote_addr = std::nullopt);

}  // namespace asyncio
