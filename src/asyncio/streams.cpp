#include <asyncio/streams.hpp>

#include <asyncio/detail/log.hpp>
#include <asyncio/event_loop.hpp>
#include <asyncio/locks.hpp>
#include <asyncio/shield.hpp>
#include <asyncio/sleep.hpp>
#include <asyncio/wait.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string_view>
#include <variant>

namespace asyncio {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using unix_socket = asio::local::stream_protocol::socket;
constexpr auto no_throw = asio::as_tuple(asio::use_awaitable);

namespace {

[[noreturn]] void throw_error(boost::system::error_code ec, const char* what) {
  if (ec == asio::error::operation_aborted) detail::throw_cancelled();
  throw boost::system::system_error(ec, what);
}

}  // namespace

namespace detail {

/// Bytes read and not yet taken: a window [start, end) of storage that is reused, so that a
/// steady stream neither allocates nor zero-fills per read (std::string::resize would).
class read_buffer {
public:
  std::string_view view() const noexcept { return {store_.data() + start_, end_ - start_}; }
  std::size_t size() const noexcept { return end_ - start_; }
  bool empty() const noexcept { return start_ == end_; }
  std::string take(std::size_t n) {
    n = std::min(n, size());
    std::string out(store_.data() + start_, n);
    drop(n);
    return out;
  }
  void drop(std::size_t n) noexcept {
    start_ += std::min(n, size());
    if (start_ == end_) start_ = end_ = 0;
  }
  /// Room for n more bytes at the end (moving the data to the front, or growing, if needed).
  asio::mutable_buffer prepare(std::size_t n) {
    if (store_.size() - end_ < n) {
      std::memmove(store_.data(), store_.data() + start_, size());
      end_ -= start_;
      start_ = 0;
      if (store_.size() - end_ < n) store_.resize(std::max(2 * store_.size(), end_ + n));
    }
    return asio::buffer(store_.data() + end_, n);
  }
  void commit(std::size_t n) noexcept { end_ += n; }

private:
  std::string store_;
  std::size_t start_ = 0, end_ = 0;
};

/// One connection or pipe: its transport, what was read and not yet taken, what is waiting
/// to be sent.
struct stream_state : std::enable_shared_from_this<stream_state> {
  // Python's transport flow control: pause writers above 64 KiB unsent, resume at 16 KiB.
  static constexpr std::size_t high_water = 64 * 1024, low_water = 16 * 1024;
  static constexpr std::size_t read_chunk = 16 * 1024;

  using transport = std::variant<tcp::socket, unix_socket, asio::posix::stream_descriptor>;

  stream_state(transport t, std::size_t limit) : io(std::move(t)), limit(limit) {}

  static std::pair<stream_reader, stream_writer> open(transport t, std::size_t limit) {
    auto state = std::make_shared<stream_state>(std::move(t), limit);
    return {stream_reader(state), stream_writer(state)};
  }

  /// Reads one more chunk into the buffer, or notes the end of the stream.
  coroutine<void> wait_for_data() {
    if (reading) throw std::runtime_error("another coroutine is already waiting for incoming data");
    auto keep = shared_from_this();
    reading = true;
    auto room = buffer.prepare(read_chunk);
    auto read = std::visit([room](auto& s) { return s.async_read_some(room, no_throw); }, io);
    auto [ec, n] = co_await std::move(read);
    reading = false;
    buffer.commit(n);
    if (ec == asio::error::eof || (ec && closed)) {
      eof = true;  // the peer is done, or we closed it under the read: no more data
    } else if (ec) {
      throw_error(ec, "read");
    }
  }

  void write(std::string_view data) {
    if (closing) throw std::runtime_error("write() after close()");
    if (write_error) return;  // drain() reports it, as Python's does
    pending.append(data);
    if (pending.size() + in_flight.size() > high_water) paused = true;
    send_more();
  }

  // Sends what is pending, one async_write at a time; at the end, closes if asked to.
  void send_more() {
    if (sending) return;
    if (pending.empty() || write_error) {
      if (closing) finish_close();
      return;
    }
    sending = true;
    std::swap(in_flight, pending);
    std::visit(
        [this](auto& s) {
          asio::async_write(s, asio::buffer(in_flight),
                            [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                              self->sent(ec);
                            });
        },
        io);
  }

  void sent(boost::system::error_code ec) {
    sending = false;
    in_flight.clear();
    if (ec) {
      write_error = std::make_exception_ptr(boost::system::system_error(ec, "write"));
      pending.clear();
    }
    if (paused && (ec || pending.size() <= low_water)) {
      paused = false;
      drainers.wake_all();
    }
    send_more();
  }

  /// transport.close(): closes once what was written is sent.
  void close() {
    closing = true;
    send_more();
  }

  /// transport.abort(): closes now; what was not sent yet is dropped.
  void abort() {
    closing = true;
    pending.clear();
    finish_close();
  }

  void finish_close() {
    if (closed) return;
    closed = true;
    // A read still waiting ends, and sees the end of the stream.
    std::visit(
        [](auto& s) {
          boost::system::error_code ignored;
          if constexpr (!std::is_same_v<std::decay_t<decltype(s)>, asio::posix::stream_descriptor>)
            s.shutdown(asio::socket_base::shutdown_both, ignored);
          s.close(ignored);
        },
        io);
    closed_event.set();
  }

  transport io;
  std::size_t limit;
  read_buffer buffer;
  bool eof = false, reading = false;
  std::string pending, in_flight;  // to send; being sent
  std::exception_ptr write_error;
  bool sending = false, paused = false, closing = false, closed = false;
  waiter_queue drainers{"drain"};
  event closed_event;
};

/// A listening socket, and the task of each connection it accepted.
struct server_state : std::enable_shared_from_this<server_state> {
  using listener = std::variant<tcp::acceptor, unix_socket::protocol_type::acceptor>;

  server_state(listener a, client_connected_cb cb, std::size_t limit)
      : acceptor(std::move(a)), callback(std::move(cb)), limit(limit) {}

  /// Starts accepting: a server, ready.
  server start() {
    std::visit(
        [this](auto& a) { accepting = create_task(accept_loop(shared_from_this(), a), "server"); },
        acceptor);
    return server(shared_from_this());
  }

  bool is_open() const {
    return std::visit([](const auto& a) { return a.is_open(); }, acceptor);
  }

  void close() {
    if (!is_open()) return;
    std::visit(
        [](auto& a) {
          boost::system::error_code ignored;
          a.close(ignored);
        },
        acceptor);
    // Python 3.13's cleanup_socket: the file goes, unless another took its place meanwhile.
    struct stat st {};
    if (!unix_path.empty() && ::stat(unix_path.c_str(), &st) == 0 && st.st_ino == unix_inode &&
        st.st_dev == unix_device)
      ::unlink(unix_path.c_str());
  }

  template <class Acceptor>
  static coroutine<void> accept_loop(std::shared_ptr<server_state> self, Acceptor& acceptor) {
    while (acceptor.is_open()) {
      auto [ec, socket] = co_await acceptor.async_accept(no_throw);
      if (!acceptor.is_open()) break;  // close()
      if (ec == asio::error::operation_aborted) detail::throw_cancelled();
      if (ec) {  // e.g. out of descriptors: say so, breathe, go on (as Python does)
        log().error("accept() failed: {}", ec.message());
        co_await sleep(std::chrono::milliseconds(100));
        continue;
      }
      std::erase_if(self->connections, [](const connection& c) { return c.handler.done(); });
      auto stream = std::make_shared<stream_state>(std::move(socket), self->limit);
      auto handler =
          create_task(serve(self->callback, stream_reader(stream), stream_writer(stream)));
      self->connections.push_back({std::move(handler), stream});
    }
  }

  static coroutine<void> serve(client_connected_cb cb, stream_reader reader, stream_writer writer) {
    try {
      co_await cb(reader, writer);
    } catch (const std::exception& e) {
      log().error("Unhandled exception in client_connected_cb: {}", e.what());
    }
    writer.close();  // cancellation skips this: the socket then closes with the state
  }

  /// Applies f to the stream of every connection still open.
  template <class F>
  void for_each_stream(F f) {
    for (auto& c : connections)
      if (auto stream = c.stream.lock()) f(*stream);
  }

  struct connection {
    task<> handler;
    std::weak_ptr<stream_state> stream;
  };

  listener acceptor;
  std::string unix_path;  // a Unix server's socket file, and which file it is
  ino_t unix_inode = 0;
  dev_t unix_device = 0;
  client_connected_cb callback;
  std::size_t limit;
  task<> accepting;
  std::vector<connection> connections;
};

}  // namespace detail

// ---- stream_reader ----

coroutine<std::string> stream_reader::read(std::ptrdiff_t n) {
  auto& s = *s_;
  if (n == 0) co_return std::string();
  if (n < 0) {
    while (!s.eof) co_await s.wait_for_data();
    co_return s.buffer.take(s.buffer.size());
  }
  if (s.buffer.empty() && !s.eof) co_await s.wait_for_data();
  co_return s.buffer.take(static_cast<std::size_t>(n));
}

coroutine<std::string> stream_reader::readexactly(std::size_t n) {
  auto& s = *s_;
  while (s.buffer.size() < n) {
    if (s.eof) throw incomplete_read_error(s.buffer.take(s.buffer.size()), n);
    co_await s.wait_for_data();
  }
  co_return s.buffer.take(n);
}

// As CPython's StreamReader.readuntil, limit rules included.
coroutine<std::string> stream_reader::readuntil(std::string separator) {
  auto& s = *s_;
  if (separator.empty())
    throw std::invalid_argument("Separator should be at least one-byte string");
  std::size_t offset = 0;
  std::size_t found;
  for (;;) {
    found = s.buffer.view().find(separator, offset);
    if (found != std::string::npos) break;
    if (s.buffer.size() + 1 >= separator.size()) offset = s.buffer.size() + 1 - separator.size();
    if (offset > s.limit)
      throw limit_overrun_error("Separator is not found, and chunk exceed the limit", offset);
    if (s.eof) throw incomplete_read_error(s.buffer.take(s.buffer.size()), std::nullopt);
    co_await s.wait_for_data();
  }
  if (found > s.limit)
    throw limit_overrun_error("Separator is found, but chunk is longer than limit", found);
  co_return s.buffer.take(found + separator.size());
}

coroutine<std::string> stream_reader::readline() {
  auto& s = *s_;
  std::string line;
  try {
    line = co_await readuntil("\n");
  } catch (incomplete_read_error& e) {
    line = std::move(e.partial);
  } catch (const limit_overrun_error& e) {
    // Drop the overlong line (or all of it that was read), as CPython does.
    auto rest = s.buffer.view();
    s.buffer.drop(rest.substr(e.consumed, 1) == "\n" ? e.consumed + 1 : rest.size());
    throw std::invalid_argument(e.what());
  }
  co_return line;
}

bool stream_reader::at_eof() const noexcept { return s_->eof && s_->buffer.empty(); }

// ---- stream_writer ----

void stream_writer::write(std::string_view data) { s_->write(data); }

coroutine<void> stream_writer::drain() {
  auto keep = s_;
  auto& s = *keep;
  while (s.paused && !s.write_error) {
    detail::wait_node w;
    auto error = co_await s.drainers.wait(w);
    if (error) std::rethrow_exception(error);
  }
  if (s.write_error) std::rethrow_exception(s.write_error);
}

void stream_writer::close() { s_->close(); }

bool stream_writer::is_closing() const noexcept { return s_->closing; }

coroutine<void> stream_writer::wait_closed() {
  auto keep = s_;
  co_await keep->closed_event.wait();
}

boost::asio::ip::tcp::socket& stream_writer::socket() {
  if (auto* socket = std::get_if<tcp::socket>(&s_->io)) return *socket;
  throw std::logic_error("socket(): this stream is a pipe, not a socket");
}

std::pair<stream_reader, stream_writer> detail::open_pipe(asio::posix::stream_descriptor pipe,
                                                          std::size_t limit) {
  return stream_state::open(std::move(pipe), limit);
}

coroutine<void> detail::read_to_eof(stream_reader reader) {
  auto& s = *reader.s_;
  while (!s.eof) co_await s.wait_for_data();
}

// ---- connections and servers ----

namespace {

// host:port as endpoints (a name may give several).
coroutine<tcp::resolver::results_type> resolve(std::string host, std::uint16_t port) {
  tcp::resolver resolver(get_running_loop().get_executor());
  auto [error, endpoints] = co_await resolver.async_resolve(host, std::to_string(port), no_throw);
  if (error) throw_error(error, "resolve");
  co_return endpoints;
}

}  // namespace

coroutine<std::pair<stream_reader, stream_writer>> open_connection(std::string host,
                                                                   std::uint16_t port,
                                                                   std::size_t limit) {
  auto endpoints = co_await resolve(host, port);
  tcp::socket socket(get_running_loop().get_executor());
  auto [error, endpoint] = co_await asio::async_connect(socket, endpoints, no_throw);
  if (error) throw_error(error, "connect");
  co_return detail::stream_state::open(std::move(socket), limit);
}

coroutine<server> start_server(client_connected_cb cb, std::string host, std::uint16_t port,
                               std::size_t limit) {
  auto endpoints = co_await resolve(host, port);
  tcp::acceptor acceptor(get_running_loop().get_executor());
  const tcp::endpoint at = *endpoints.begin();
  acceptor.open(at.protocol());
  acceptor.set_option(tcp::acceptor::reuse_address(true));
  acceptor.bind(at);
  acceptor.listen(asio::socket_base::max_listen_connections);
  co_return std::make_shared<detail::server_state>(std::move(acceptor), std::move(cb), limit)
      ->start();
}

coroutine<std::pair<stream_reader, stream_writer>> open_unix_connection(std::string path,
                                                                        std::size_t limit) {
  unix_socket socket(get_running_loop().get_executor());
  auto [error] = co_await socket.async_connect(unix_socket::endpoint_type(path), no_throw);
  if (error) throw_error(error, "connect");
  co_return detail::stream_state::open(std::move(socket), limit);
}

coroutine<server> start_unix_server(client_connected_cb cb, std::string path, std::size_t limit) {
  auto& loop = get_running_loop();
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) {
    // A socket file left there: stale if nothing listens on it (then replaced), else in use.
    unix_socket probe(loop.get_executor());
    boost::system::error_code error;
    probe.connect(unix_socket::endpoint_type(path), error);
    if (!error) throw boost::system::system_error(asio::error::address_in_use, "bind " + path);
    if (error == asio::error::connection_refused) ::unlink(path.c_str());
  }
  unix_socket::protocol_type::acceptor acceptor(loop.get_executor());
  acceptor.open();
  boost::system::error_code error;
  if (acceptor.bind(unix_socket::endpoint_type(path), error))
    throw boost::system::system_error(error, "bind " + path);
  acceptor.listen(asio::socket_base::max_listen_connections);
  auto state = std::make_shared<detail::server_state>(std::move(acceptor), std::move(cb), limit);
  if (::stat(path.c_str(), &st) == 0) {
    state->unix_path = path;
    state->unix_inode = st.st_ino;
    state->unix_device = st.st_dev;
  }
  co_return state->start();
}

std::uint16_t server::port() const {
  if (auto* tcp_acceptor = std::get_if<tcp::acceptor>(&s_->acceptor))
    return tcp_acceptor->local_endpoint().port();
  throw std::logic_error("port(): a Unix server has a path, not a port");
}

bool server::is_serving() const noexcept { return s_->is_open(); }

void server::close() { s_->close(); }  // the accept loop ends

void server::close_clients() {
  s_->for_each_stream([](detail::stream_state& s) { s.close(); });
}

void server::abort_clients() {
  s_->for_each_stream([](detail::stream_state& s) { s.abort(); });
}

// With wait(), not by awaiting each task: cancelling wait_closed() must not cancel what it
// waits for (Python's waits on a future of its own), and their errors are not its own.
coroutine<void> server::wait_closed() {
  auto keep = s_;
  std::vector<task<>> accepting(1, keep->accepting);  // g++ 12 rejects a braced list here
  co_await wait(std::move(accepting));
  // Connections accepted meanwhile are in the list too: it is only read once accepting ended.
  std::vector<task<>> handlers;
  for (auto& c : keep->connections) handlers.push_back(c.handler);
  if (!handlers.empty()) co_await wait(std::move(handlers));
}

coroutine<void> server::serve_forever() {
  auto keep = s_;
  auto accepting = keep->accepting;
  std::exception_ptr cancelled;
  try {
    co_await shield(accepting);  // ends when close() closes the acceptor
  } catch (const cancelled_error&) {
    cancelled = std::current_exception();
  }
  if (cancelled) {  // Python's serve_forever: cancelled, it closes the server and waits
    close();
    co_await wait_closed();
    std::rethrow_exception(cancelled);
  }
}

}  // namespace asyncio
