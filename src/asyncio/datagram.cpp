#include <asyncio/datagram.hpp>

#include <asyncio/detail/operation.hpp>
#include <asyncio/detail/resolve.hpp>
#include <asyncio/event_loop.hpp>
#include <asyncio/task.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <deque>
#include <memory>
#include <stdexcept>

namespace asyncio {

namespace asio = boost::asio;
using udp = asio::ip::udp;

namespace detail {

/// The socket, what is waiting to be sent, and an error the network reported meanwhile.
struct datagram_state : std::enable_shared_from_this<datagram_state> {
  static constexpr std::size_t max_datagram = 65536;  // UDP's payload is less: never truncated

  explicit datagram_state(udp::socket s) : socket(std::move(s)) {}

  void sendto(std::string_view data, const udp::endpoint& to) {
    if (closed) throw std::runtime_error("sendto() after close()");
    if (queue.empty()) {  // at once, as Python's transport does when it can
      boost::system::error_code error;
      socket.send_to(asio::buffer(data), to, 0, error);
      if (!error) return;
      if (error != asio::error::would_block) throw boost::system::system_error(error, "sendto");
    }
    queue.push_back({std::string(data), to});
    if (queue.size() == 1) send_queued();
  }

  // One datagram at a time once the buffer has room; an error is kept for recvfrom().
  void send_queued() {
    auto& [data, to] = queue.front();
    socket.async_send_to(asio::buffer(data), to,
                         [self = shared_from_this()](boost::system::error_code error, std::size_t) {
                           if (self->closed) return;
                           if (error) self->reported = error;
                           self->queue.pop_front();
                           if (!self->queue.empty()) self->send_queued();
                         });
  }

  void close() {
    if (closed) return;
    closed = true;
    boost::system::error_code ignored;
    socket.close(ignored);  // the send in flight ends aborted, without touching its buffer
    queue.clear();
  }

  datagram_endpoint handle() { return datagram_endpoint(shared_from_this()); }

  udp::socket socket;
  // Where recvfrom() receives (one receiver at a time), so each datagram's string holds its own
  // bytes only, not the 64 KiB a datagram could have been.
  std::unique_ptr<char[]> received;
  std::deque<std::pair<std::string, udp::endpoint>> queue;
  boost::system::error_code reported;  // from a queued send, for the next recvfrom()
  std::optional<udp::endpoint> remote;
  bool receiving = false, closed = false;
};

}  // namespace detail

coroutine<datagram> datagram_endpoint::recvfrom() {
  auto keep = s_;
  auto& s = *keep;
  if (s.receiving) throw std::runtime_error("another coroutine is already waiting in recvfrom()");
  if (auto error = std::exchange(s.reported, {}))
    throw boost::system::system_error(error, "sendto");
  if (!s.received)
    s.received = std::make_unique_for_overwrite<char[]>(detail::datagram_state::max_datagram);
  datagram d;
  s.receiving = true;
  auto [error, n] = co_await s.socket.async_receive_from(
      asio::buffer(s.received.get(), detail::datagram_state::max_datagram), d.addr,
      asio::as_tuple(asio::use_awaitable));
  s.receiving = false;
  if (s.closed) throw boost::system::system_error(asio::error::bad_descriptor, "recvfrom: closed");
  if (error == asio::error::operation_aborted) detail::throw_cancelled();
  if (error) throw boost::system::system_error(error, "recvfrom");
  d.data.assign(s.received.get(), n);
  co_return d;
}

void datagram_endpoint::sendto(std::string_view data, const udp::endpoint& addr) {
  s_->sendto(data, addr);
}

void datagram_endpoint::send(std::string_view data) {
  if (!s_->remote) throw std::logic_error("send(): the endpoint has no remote address");
  s_->sendto(data, *s_->remote);
}

void datagram_endpoint::close() { s_->close(); }

bool datagram_endpoint::is_closing() const noexcept { return s_->closed; }

udp::endpoint datagram_endpoint::local_address() const { return s_->socket.local_endpoint(); }

udp::socket& datagram_endpoint::socket() noexcept { return s_->socket; }

coroutine<datagram_endpoint> open_datagram_endpoint(std::optional<host_port> local_addr,
                                                    std::optional<host_port> remote_addr) {
  if (!local_addr && !remote_addr)
    throw std::invalid_argument("open_datagram_endpoint: local_addr or remote_addr is needed");
  std::optional<udp::endpoint> local, remote;
  if (local_addr) {
    auto found = co_await detail::resolve<udp>(local_addr->first, local_addr->second);
    local = found.begin()->endpoint();
  }
  if (remote_addr) {
    auto found = co_await detail::resolve<udp>(remote_addr->first, remote_addr->second);
    remote = found.begin()->endpoint();
  }
  udp::socket socket(get_running_loop().get_executor());
  socket.open(local ? local->protocol() : remote->protocol());
  socket.non_blocking(true);  // sendto() tries at once, and queues only when the buffer is full
  if (local) socket.bind(*local);
  if (remote) socket.connect(*remote);
  auto state = std::make_shared<detail::datagram_state>(std::move(socket));
  state->remote = remote;
  co_return state->handle();
}

}  // namespace asyncio
