#include <asyncio/streams.hpp>

#include <asyncio/detail/log.hpp>
#include <asyncio/detail/op_memory.hpp>
#include <asyncio/detail/resolve.hpp>
#include <asyncio/errors.hpp>
#include <asyncio/event_loop.hpp>
#include <asyncio/locks.hpp>
#include <asyncio/sleep.hpp>
#include <asyncio/timeout.hpp>
#include <asyncio/wait.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <openssl/x509v3.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string_view>
#include <tuple>
#include <variant>

namespace asyncio {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using unix_socket = asio::local::stream_protocol::socket;
constexpr auto no_throw = asio::as_tuple(asio::use_awaitable);
// For the reads and writes every stream repeats: their operations' memory is recycled.
template <class Token>
auto recycled(Token token) {
  return asio::bind_allocator(detail::op_allocator<void>(), std::move(token));
}

namespace {

[[noreturn]] void throw_error(boost::system::error_code ec, const char* what) {
  if (ec == asio::error::operation_aborted) detail::throw_cancelled();
  throw boost::system::system_error(ec, what);
}

// Python's TCP transports disable Nagle's algorithm (since 3.6), so that a reply written in
// pieces is not held back waiting for the peer's delayed ACK. A socket that refuses it is
// already failing, and its next read or write says so.
void no_delay(tcp::socket& socket) {
  boost::system::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
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

/// A TCP socket whose first reads give back bytes read before TLS took it over: at start_tls,
/// what the reader had buffered is the start of the peer's handshake, and must not be lost.
class replay_socket {
public:
  using executor_type = tcp::socket::executor_type;
  using lowest_layer_type = tcp::socket::lowest_layer_type;

  replay_socket(tcp::socket s, std::string replay)
      : socket_(std::move(s)), replay_(std::move(replay)) {}

  executor_type get_executor() noexcept { return socket_.get_executor(); }
  lowest_layer_type& lowest_layer() noexcept { return socket_.lowest_layer(); }
  tcp::socket& socket() noexcept { return socket_; }

  template <class Buffers, class Token>
  auto async_read_some(const Buffers& buffers, Token&& token) {
    return asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [this](auto handler, const Buffers& buffers) {
          if (replay_.empty()) {
            socket_.async_read_some(buffers, std::move(handler));
            return;
          }
          auto n = asio::buffer_copy(buffers, asio::buffer(replay_));
          replay_.erase(0, n);
          auto ex = asio::get_associated_executor(handler, socket_.get_executor());
          asio::post(ex, [handler = std::move(handler), n]() mutable {
            std::move(handler)(boost::system::error_code(), n);
          });
        },
        token, buffers);
  }

  template <class Buffers, class Token>
  auto async_write_some(const Buffers& buffers, Token&& token) {
    return socket_.async_write_some(buffers, std::forward<Token>(token));
  }

private:
  tcp::socket socket_;
  std::string replay_;
};

using tls_stream = asio::ssl::stream<replay_socket>;

/// One connection or pipe: its transport, what was read and not yet taken, what is waiting
/// to be sent.
struct stream_state : std::enable_shared_from_this<stream_state> {
  // Python's transport flow control: pause writers above 64 KiB unsent, resume at 16 KiB.
  static constexpr std::size_t high_water = 64 * 1024, low_water = 16 * 1024;
  static constexpr std::size_t read_chunk = 16 * 1024;

  using transport =
      std::variant<tcp::socket, unix_socket, tls_stream, asio::posix::stream_descriptor>;
  // close_notify sent, how long to wait for the peer's before closing anyway (Python waits
  // ssl_shutdown_timeout, 30 s; a peer that does not answer should not hold a socket so long).
  static constexpr auto goodbye_grace = std::chrono::seconds(5);

  stream_state(transport t, std::size_t limit) : io(std::move(t)), limit(limit) {}

  static std::pair<stream_reader, stream_writer> open(transport t, std::size_t limit) {
    return handles(std::make_shared<stream_state>(std::move(t), limit));
  }

  static std::pair<stream_reader, stream_writer> handles(std::shared_ptr<stream_state> state) {
    return {stream_reader(state), stream_writer(std::move(state))};
  }

  template <class Separators>
  std::size_t find_until(const Separators& separators, std::size_t& offset);

  /// The read of one more chunk into the buffer, to await inside the reading coroutine (no
  /// frame of its own); its result goes to end_read(), which notes the end of the stream.
  asio::awaitable<std::tuple<boost::system::error_code, std::size_t>> read_some() {
    if (reading) throw std::runtime_error("another coroutine is already waiting for incoming data");
    reading = true;
    auto room = buffer.prepare(read_chunk);
    return std::visit([room](auto& s) { return s.async_read_some(room, recycled(no_throw)); }, io);
  }

  void end_read(std::tuple<boost::system::error_code, std::size_t> result) {
    auto [ec, n] = result;
    reading = false;
    buffer.commit(n);
    if (!ec) return;
    // The peer is done (with TLS, also one that vanished without close_notify), or we closed
    // the stream under the read: no more data.
    if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated || closed)
      eof = true;
    else
      throw_error(ec, "read");
  }

  void write(std::string_view data) {
    if (closing) throw std::runtime_error("write() after close()");
    if (eof_asked) throw std::runtime_error("write() after write_eof()");
    if (write_error || data.empty()) return;  // drain() reports the error, as Python's does
    if (!sending && pending.empty()) {
      data.remove_prefix(send_now(data));
      if (data.empty() || write_error) return;
    }
    pending.append(data);
    if (pending.size() + in_flight.size() > high_water) paused = true;
    send_more();
  }

  // As Python's transports do with nothing queued: the kernel takes what it can at once, and
  // only the rest waits for an operation (a message that fits costs no operation and no
  // completion). Not under TLS, which writes through its engine. The bytes taken; a failure
  // is the stream's write error, as a failed operation's.
  std::size_t send_now(std::string_view data) {
    const auto n = std::visit(
        [data](auto& s) -> ssize_t {
          using type = std::decay_t<decltype(s)>;
          if constexpr (std::is_same_v<type, tls_stream>) {
            return 0;
          } else {
            if (!s.is_open()) return 0;  // the operation reports it
            if constexpr (std::is_same_v<type, asio::posix::stream_descriptor>)
              return ::write(s.native_handle(), data.data(), data.size());  // non-blocking
            else
              return ::send(s.native_handle(), data.data(), data.size(),
                            MSG_DONTWAIT | MSG_NOSIGNAL);
          }
        },
        io);
    if (n >= 0) return static_cast<std::size_t>(n);
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
      write_error = std::make_exception_ptr(boost::system::system_error(
          boost::system::error_code(errno, boost::system::system_category()), "write"));
    return 0;
  }

  // Sends what is pending, one async_write at a time; at the end, closes or ends the writing
  // half if asked to.
  void send_more() {
    if (sending) return;
    if (pending.empty() || write_error) {
      if (closing)
        finish_close();
      else if (eof_asked)
        end_writing();
      return;
    }
    sending = true;
    std::swap(in_flight, pending);
    std::visit(
        [this](auto& s) {
          asio::async_write(s, asio::buffer(in_flight),
                            recycled([self = shared_from_this()](boost::system::error_code ec,
                                                                 std::size_t) { self->sent(ec); }));
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
    if (!sending) flushed.wake_all();
  }

  /// The TLS handshake over the tls_stream in io: as a client, checking the certificate
  /// against `host` (a name, or an IP address) and sending it as SNI.
  coroutine<void> handshake(bool server_side, std::string host) {
    auto keep = shared_from_this();
    auto& tls = std::get<tls_stream>(io);
    if (!server_side && !host.empty()) {
      boost::system::error_code not_ip;
      asio::ip::make_address(host, not_ip);
      if (not_ip) {
        ::SSL_set_tlsext_host_name(tls.native_handle(), host.c_str());
        ::SSL_set1_host(tls.native_handle(), host.c_str());
      } else {
        ::X509_VERIFY_PARAM_set1_ip_asc(::SSL_get0_param(tls.native_handle()), host.c_str());
      }
    }
    auto [ec] = co_await tls.async_handshake(
        server_side ? asio::ssl::stream_base::server : asio::ssl::stream_base::client, no_throw);
    if (ec == asio::error::operation_aborted) throw_cancelled();
    if (ec) {
      std::string reason = ec.message();
      if (auto verify = ::SSL_get_verify_result(tls.native_handle()); verify != X509_V_OK)
        reason += std::string(": ") + ::X509_verify_cert_error_string(verify);
      throw ssl_error("TLS handshake", reason);
    }
    handshaken = true;
  }

  /// transport.write_eof(): once what was written is sent, the peer reads the end of the
  /// stream and can still answer. A pipe has no halves: it closes.
  void write_eof() {
    if (closing || eof_asked) return;
    if (!can_write_eof())
      throw std::runtime_error("write_eof(): TLS has no half-close (can_write_eof() is false)");
    if (std::holds_alternative<asio::posix::stream_descriptor>(io)) return close();
    eof_asked = true;
    send_more();
  }

  bool can_write_eof() const noexcept { return !std::holds_alternative<tls_stream>(io); }

  void end_writing() {
    boost::system::error_code ignored;  // a connection already gone has no half to end
    if (auto* tcp = std::get_if<tcp::socket>(&io))
      tcp->shutdown(asio::socket_base::shutdown_send, ignored);
    else if (auto* local = std::get_if<unix_socket>(&io))
      local->shutdown(asio::socket_base::shutdown_send, ignored);
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
    auto* tls = std::get_if<tls_stream>(&io);
    // TLS says goodbye first (close_notify), unless a read is under way on the same engine.
    if (tls && handshaken && !reading) return say_goodbye(*tls);
    close_transport();
  }

  void say_goodbye(tls_stream& tls) {
    auto timer = std::make_shared<asio::steady_timer>(tls.get_executor(), goodbye_grace);
    timer->async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (!ec) self->close_transport();  // no answer in time: close anyway
    });
    tls.async_shutdown([self = shared_from_this(), timer](boost::system::error_code) {
      timer->cancel();
      self->close_transport();
    });
  }

  // A read still waiting ends, and sees the end of the stream.
  void close_transport() {
    if (transport_closed) return;
    transport_closed = true;
    std::visit(
        [](auto& s) {
          boost::system::error_code ignored;
          using type = std::decay_t<decltype(s)>;
          if constexpr (std::is_same_v<type, tls_stream>) {
            s.lowest_layer().shutdown(asio::socket_base::shutdown_both, ignored);
            s.lowest_layer().close(ignored);
          } else {
            if constexpr (!std::is_same_v<type, asio::posix::stream_descriptor>)
              s.shutdown(asio::socket_base::shutdown_both, ignored);
            s.close(ignored);
          }
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
  bool eof_asked = false;  // write_eof(): the writing half ends once pending is sent
  bool transport_closed = false, handshaken = false;
  bool server_side = false;  // accepted by a server (start_tls then takes the server's part)
  waiter_queue drainers{"drain"};
  waiter_queue flushed{"start_tls"};  // everything written has been sent
  event closed_event;
};

/// The listening sockets, each with the task that accepts on it, and the task of each
/// connection they accepted.
struct server_state : std::enable_shared_from_this<server_state> {
  using listener = std::variant<tcp::acceptor, unix_socket::protocol_type::acceptor>;

  server_state(std::vector<listener> a, client_connected_cb cb, std::size_t limit)
      : acceptors(std::move(a)), callback(std::move(cb)), limit(limit) {}

  /// Starts accepting: a server, ready.
  server start() {
    for (auto& acceptor : acceptors)
      std::visit(
          [this](auto& a) {
            accepting.push_back(create_task(accept_loop(shared_from_this(), a), "server"));
          },
          acceptor);
    return server(shared_from_this());
  }

  bool is_open() const {  // all are closed together
    return std::visit([](const auto& a) { return a.is_open(); }, acceptors.front());
  }

  void close() {
    if (!is_open()) return;
    for (auto& acceptor : acceptors)
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

  /// A TLS server's context and handshake timeout.
  void use_tls(const ssl_options& ssl) {
    tls = ssl.context;
    handshake_timeout = ssl.handshake_timeout;
  }

  /// Python 3.13's cleanup_socket: notes which file a Unix server listens on, so that close()
  /// removes that file and no other.
  void own_socket_file(const std::string& path) {
    struct stat st {};
    if (path.empty() || path[0] == '\0' || ::stat(path.c_str(), &st) != 0) return;
    unix_path = path;
    unix_inode = st.st_ino;
    unix_device = st.st_dev;
  }

  template <class Acceptor>
  static coroutine<void> accept_loop(std::shared_ptr<server_state> self, Acceptor& acceptor) {
    while (acceptor.is_open()) {
      auto [ec, socket] = co_await acceptor.async_accept(no_throw);
      if (!acceptor.is_open()) break;  // close()
      if (ec == asio::error::operation_aborted) detail::throw_cancelled();
      if (ec) {  // e.g. out of descriptors: say so, breathe, go on (as Python does)
        get_running_loop().call_exception_handler(
            {"accept() failed", std::make_exception_ptr(boost::system::system_error(ec)), {}});
        co_await sleep(std::chrono::milliseconds(100));
        continue;
      }
      std::erase_if(self->connections, [](const connection& c) { return c.handler.done(); });
      auto stream = self->stream_for(std::move(socket));
      stream->server_side = true;
      auto handler = create_task(serve(self->callback, stream, self->handshake_timeout));
      self->connections.push_back({std::move(handler), stream});
    }
  }

  std::shared_ptr<stream_state> stream_for(unix_socket socket) {
    return std::make_shared<stream_state>(std::move(socket), limit);
  }

  std::shared_ptr<stream_state> stream_for(tcp::socket socket) {
    no_delay(socket);
    if (!tls) return std::make_shared<stream_state>(std::move(socket), limit);
    return std::make_shared<stream_state>(tls_stream(replay_socket(std::move(socket), {}), *tls),
                                          limit);
  }

  // One connection: its TLS handshake first, if any (a failure ends this connection only, as
  // in Python), then the callback.
  static coroutine<void> serve(client_connected_cb cb, std::shared_ptr<stream_state> stream,
                               std::chrono::milliseconds handshake_timeout) {
    stream_reader reader(stream);
    stream_writer writer(stream);
    if (std::holds_alternative<tls_stream>(stream->io)) {
      std::exception_ptr failed;
      try {
        co_await wait_for(stream->handshake(true, {}), handshake_timeout);
      } catch (const std::exception& e) {
        // The client's failure, not the server's: as Python, said in debug mode only (a
        // server facing scanners would log an error for each).
        if (get_running_loop().get_debug())
          log().warn("TLS handshake with a client failed: {}", e.what());
        failed = std::current_exception();
      }
      if (failed) co_return stream->abort();
    }
    try {
      co_await cb(reader, writer);
    } catch (const std::exception&) {
      get_running_loop().call_exception_handler(
          {"Unhandled exception in client_connected_cb", std::current_exception(), {}});
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

  std::vector<listener> acceptors;  // one at least
  ssl_context* tls = nullptr;       // a TLS server's context, and how long a handshake may take
  std::chrono::milliseconds handshake_timeout{0};
  std::string unix_path;  // a Unix server's socket file, and which file it is
  ino_t unix_inode = 0;
  dev_t unix_device = 0;
  client_connected_cb callback;
  std::size_t limit;
  std::vector<task<>> accepting;  // an accept loop per acceptor
  std::vector<connection> connections;
};

}  // namespace detail

// ---- stream_reader ----

// Each read below awaits its chunks itself, end_read(co_await read_some()): no frame beyond its
// own. `keep` holds the stream while a read waits, should the reader handle go first.

coroutine<std::string> stream_reader::read(std::ptrdiff_t n) {
  auto& s = *s_;
  std::shared_ptr<detail::stream_state> keep;
  if (n == 0) co_return std::string();
  while (!s.eof && (n < 0 || s.buffer.empty())) {
    if (!keep) keep = s_;
    s.end_read(co_await s.read_some());
  }
  co_return s.buffer.take(n < 0 ? s.buffer.size() : static_cast<std::size_t>(n));
}

coroutine<std::string> stream_reader::readexactly(std::size_t n) {
  auto& s = *s_;
  std::shared_ptr<detail::stream_state> keep;
  while (s.buffer.size() < n) {
    if (s.eof) throw incomplete_read_error(s.buffer.take(s.buffer.size()), n);
    if (!keep) keep = s_;
    s.end_read(co_await s.read_some());
  }
  co_return s.buffer.take(n);
}

// One look for a separator in what is buffered (from `offset` on, moved on for the next
// look): the length of the shortest chunk that ends with one, or 0 if none is there yet. As
// CPython's StreamReader.readuntil, limit rules included; `separators` come shortest first, so
// that of two ending the chunk the shorter counts for the limit. The chunk stays in the buffer
// until taken, so that a line becomes a string once, there. A template, so that readline's
// one "\n" is a constant there (a search for one known byte).
template <class Separators>
std::size_t detail::stream_state::find_until(const Separators& separators, std::size_t& offset) {
  auto data = buffer.view();
  std::size_t start = 0, end = 0;
  for (std::string_view separator : separators) {
    auto found = data.find(separator, offset);
    if (found != std::string_view::npos && (!end || found + separator.size() < end)) {
      start = found;
      end = found + separator.size();
    }
  }
  if (!end) {
    auto longest = separators.back().size();
    if (data.size() + 1 >= longest) offset = data.size() + 1 - longest;
    if (offset > limit)
      throw limit_overrun_error("Separator is not found, and chunk exceed the limit", offset);
    return 0;
  }
  if (start > limit)
    throw limit_overrun_error("Separator is found, but chunk is longer than limit", start);
  return end;
}

coroutine<std::string> stream_reader::readuntil(std::string separator) {
  return readuntil(std::vector<std::string>{std::move(separator)});
}

coroutine<std::string> stream_reader::readuntil(std::vector<std::string> separators) {
  auto& s = *s_;
  if (separators.empty())
    throw std::invalid_argument("Separator should contain at least one element");
  // Shortest first, in place. The order of equal lengths does not matter: two such can end a
  // chunk at the same place only if they are the same.
  std::ranges::sort(separators, {}, [](const std::string& x) { return x.size(); });
  if (separators.front().empty())
    throw std::invalid_argument("Separator should be at least one-byte string");
  std::shared_ptr<detail::stream_state> keep;
  std::size_t offset = 0;
  for (;;) {
    if (auto length = s.find_until(separators, offset)) co_return s.buffer.take(length);
    if (s.eof) throw incomplete_read_error(s.buffer.take(s.buffer.size()), std::nullopt);
    if (!keep) keep = s_;
    s.end_read(co_await s.read_some());
  }
}

// readuntil("\n") without its frame: a line is the hot path of every line protocol.
coroutine<std::string> stream_reader::readline() {
  auto& s = *s_;
  std::shared_ptr<detail::stream_state> keep;
  std::size_t offset = 0;
  for (;;) {
    std::size_t length = 0;
    try {
      static constexpr std::array<std::string_view, 1> newline{"\n"};
      length = s.find_until(newline, offset);
    } catch (const limit_overrun_error& e) {
      // Drop the overlong line (or all of it that was read), as CPython does.
      auto rest = s.buffer.view();
      s.buffer.drop(rest.substr(e.consumed, 1) == "\n" ? e.consumed + 1 : rest.size());
      throw std::invalid_argument(e.what());
    }
    // At the end of the stream: what is left, a last line without its '\n' (or "").
    if (length || s.eof) co_return s.buffer.take(length ? length : s.buffer.size());
    if (!keep) keep = s_;
    s.end_read(co_await s.read_some());
  }
}

bool stream_reader::at_eof() const noexcept { return s_->eof && s_->buffer.empty(); }

// ---- stream_writer ----

void stream_writer::write(std::string_view data) { s_->write(data); }

detail::waiter_queue& stream_writer::drain_kind::waiters() const noexcept { return s->drainers; }

bool stream_writer::drain_kind::ready() const noexcept { return !s->paused || s->write_error; }

void stream_writer::drain_kind::take() const {
  if (s->write_error) std::rethrow_exception(s->write_error);
}

bool stream_writer::drain_kind::after_wait(const detail::wait_node&, std::exception_ptr error,
                                           outcome<void>& result) {
  if (!error && !ready()) return false;  // woken, but paused again: waits on
  result.error = error ? std::move(error) : s->write_error;
  return true;
}

void stream_writer::write_eof() { s_->write_eof(); }

bool stream_writer::can_write_eof() const noexcept { return s_->can_write_eof(); }

void stream_writer::close() { s_->close(); }

bool stream_writer::is_closing() const noexcept { return s_->closing; }

coroutine<void> stream_writer::wait_closed() {
  auto keep = s_;
  co_await keep->closed_event.wait();
}

boost::asio::ip::tcp::socket& stream_writer::socket() {
  if (auto* socket = std::get_if<tcp::socket>(&s_->io)) return *socket;
  if (auto* tls = std::get_if<detail::tls_stream>(&s_->io)) return tls->next_layer().socket();
  if (std::holds_alternative<unix_socket>(s_->io))
    throw std::logic_error("socket(): a Unix stream has no TCP socket");
  throw std::logic_error("socket(): this stream is a pipe, not a socket");
}

std::pair<stream_reader, stream_writer> detail::open_pipe(asio::posix::stream_descriptor pipe,
                                                          std::size_t limit) {
  // write()'s direct path must not block on a full pipe (a socket's takes MSG_DONTWAIT); no
  // blocking call is made on it anywhere else.
  pipe.non_blocking(true);
  return stream_state::open(std::move(pipe), limit);
}

coroutine<void> detail::read_to_eof(stream_reader reader) {
  auto& s = *reader.s_;
  while (!s.eof) {
    s.end_read(co_await s.read_some());
  }
}

// ---- connections and servers ----

namespace {

// The client's side of TLS over a connected socket: the handshake, checking `name`.
coroutine<std::pair<stream_reader, stream_writer>> tls_client(tcp::socket socket, ssl_options ssl,
                                                              std::string name, std::size_t limit) {
  auto state = std::make_shared<detail::stream_state>(
      detail::tls_stream(detail::replay_socket(std::move(socket), {}), *ssl.context), limit);
  co_await wait_for(state->handshake(false, std::move(name)), ssl.handshake_timeout);
  co_return detail::stream_state::handles(std::move(state));
}

coroutine<tcp::socket> connect(std::string host, std::uint16_t port) {
  auto endpoints = co_await detail::resolve<tcp>(host, port);
  tcp::socket socket(get_running_loop().get_executor());
  auto [error, endpoint] = co_await asio::async_connect(socket, endpoints, no_throw);
  if (error) throw_error(error, "connect");
  no_delay(socket);
  co_return socket;
}

std::string text_of(const tcp::endpoint& at) {
  auto address = at.address().to_string();
  if (at.address().is_v6()) address = "[" + address + "]";
  return address + ":" + std::to_string(at.port());
}

// As Python's create_server: every address of every host, once each.
coroutine<std::vector<tcp::endpoint>> listening_addresses(server_host host, std::uint16_t port) {
  std::vector<tcp::endpoint> addresses;
  for (const auto& name : host.names()) {
    auto found = co_await detail::resolve<tcp>(name, port, tcp::resolver::passive);
    for (const auto& entry : found)
      if (std::find(addresses.begin(), addresses.end(), entry.endpoint()) == addresses.end())
        addresses.push_back(entry.endpoint());
  }
  co_return addresses;
}

coroutine<std::shared_ptr<detail::server_state>> listen(client_connected_cb cb, server_host host,
                                                        std::uint16_t port, server_options options,
                                                        std::size_t limit) {
  auto addresses = co_await listening_addresses(std::move(host), port);
  std::vector<detail::server_state::listener> acceptors;
  boost::system::error_code skipped;
  for (const auto& at : addresses) {
    tcp::acceptor acceptor(get_running_loop().get_executor());
    boost::system::error_code error;
    if (acceptor.open(at.protocol(), error)) {  // no such family here: skipped, as Python does
      skipped = error;
      continue;
    }
    acceptor.set_option(tcp::acceptor::reuse_address(true));
    if (options.reuse_port) {  // Asio has no public option for it
      int on = 1;
      if (::setsockopt(acceptor.native_handle(), SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) != 0)
        throw_error(boost::system::error_code(errno, boost::system::system_category()),
                    "setsockopt(SO_REUSEPORT)");
    }
    // The IPv4 socket takes IPv4: "" listens on 0.0.0.0 and on :: without a clash.
    if (at.address().is_v6()) acceptor.set_option(asio::ip::v6_only(true));
    if (acceptor.bind(at, error) == boost::system::errc::address_not_available) {
      skipped = error;  // that family is not enabled here (Python skips it too, bpo-30945)
      continue;
    }
    if (error) throw boost::system::system_error(error, "bind " + text_of(at));
    acceptor.listen(asio::socket_base::max_listen_connections);
    acceptors.push_back(std::move(acceptor));
  }
  if (acceptors.empty())
    throw boost::system::system_error(skipped ? skipped : asio::error::host_not_found,
                                      "start_server: no address to listen on");
  co_return std::make_shared<detail::server_state>(std::move(acceptors), std::move(cb), limit);
}

}  // namespace

coroutine<std::pair<stream_reader, stream_writer>> open_connection(std::string host,
                                                                   std::uint16_t port,
                                                                   std::size_t limit) {
  auto socket = co_await connect(host, port);
  co_return detail::stream_state::open(std::move(socket), limit);
}

coroutine<std::pair<stream_reader, stream_writer>> open_connection(std::string host,
                                                                   std::uint16_t port,
                                                                   ssl_options ssl,
                                                                   std::size_t limit) {
  auto socket = co_await connect(host, port);
  auto name = ssl.server_hostname.empty() ? host : ssl.server_hostname;
  co_return co_await tls_client(std::move(socket), std::move(ssl), std::move(name), limit);
}

coroutine<server> start_server(client_connected_cb cb, server_host host, std::uint16_t port,
                               std::size_t limit) {
  auto state = co_await listen(std::move(cb), std::move(host), port, {}, limit);
  co_return state->start();
}

coroutine<server> start_server(client_connected_cb cb, server_host host, std::uint16_t port,
                               server_options options, std::size_t limit) {
  auto state = co_await listen(std::move(cb), std::move(host), port, options, limit);
  co_return state->start();
}

coroutine<server> start_server(client_connected_cb cb, server_host host, std::uint16_t port,
                               ssl_options ssl, server_options options, std::size_t limit) {
  auto state = co_await listen(std::move(cb), std::move(host), port, options, limit);
  state->use_tls(ssl);
  co_return state->start();
}

coroutine<void> stream_writer::start_tls(ssl_options ssl) {
  auto keep = s_;
  auto& s = *keep;
  auto* plain = std::get_if<tcp::socket>(&s.io);
  if (!plain) throw std::logic_error("start_tls(): only a plain TCP stream can be upgraded");
  if (s.reading) throw std::runtime_error("start_tls(): a read is waiting on the stream");
  if (s.closing) throw std::runtime_error("start_tls(): the stream is closing");
  if (s.eof_asked) throw std::runtime_error("start_tls(): after write_eof()");
  while (s.sending) {  // what was written before goes out in the clear first (Python drains)
    detail::wait_node w;
    auto error = co_await s.flushed.wait(w);
    if (error) std::rethrow_exception(error);
  }
  if (s.write_error) std::rethrow_exception(s.write_error);
  auto name = ssl.server_hostname;
  if (name.empty() && !s.server_side) {
    boost::system::error_code ignored;
    name = plain->remote_endpoint(ignored).address().to_string();
  }
  // What the reader holds already is the start of the peer's handshake (a client may send
  // its hello right after the line that asked for TLS): TLS reads it first.
  auto early = s.buffer.take(s.buffer.size());
  tcp::socket socket = std::move(*plain);
  s.io.emplace<detail::tls_stream>(detail::replay_socket(std::move(socket), std::move(early)),
                                   *ssl.context);
  co_await wait_for(s.handshake(s.server_side, std::move(name)), ssl.handshake_timeout);
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
  // Linux's abstract namespace: a name that starts with a NUL byte is no file, as in Python.
  const bool abstract = !path.empty() && path[0] == '\0';
  const auto name = abstract ? "@" + path.substr(1) : path;  // as ss and strace show it
  struct stat st {};
  if (!abstract && ::lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) {
    // A socket file left there: stale if nothing listens on it (then replaced), else in use.
    unix_socket probe(loop.get_executor());
    boost::system::error_code error;
    probe.connect(unix_socket::endpoint_type(path), error);
    if (!error) throw boost::system::system_error(asio::error::address_in_use, "bind " + name);
    if (error == asio::error::connection_refused) ::unlink(path.c_str());
  }
  unix_socket::protocol_type::acceptor acceptor(loop.get_executor());
  acceptor.open();
  boost::system::error_code error;
  if (acceptor.bind(unix_socket::endpoint_type(path), error))
    throw boost::system::system_error(error, "bind " + name);
  acceptor.listen(asio::socket_base::max_listen_connections);
  std::vector<detail::server_state::listener> acceptors;
  acceptors.emplace_back(std::move(acceptor));
  auto state = std::make_shared<detail::server_state>(std::move(acceptors), std::move(cb), limit);
  state->own_socket_file(path);
  co_return state->start();
}

// ---- sock=: sockets and acceptors opened by the program ----

namespace {

// What a sock= argument must be: open, and on the running loop's io_context, whose thread
// alone may touch it.
template <class Socket>
void check_adopted(Socket& sock, const char* call) {
  if (!sock.is_open()) throw std::invalid_argument(std::string(call) + ": the socket is not open");
  if (&asio::query(sock.get_executor(), asio::execution::context) != &get_running_loop().context())
    throw std::invalid_argument(std::string(call) +
                                ": the socket belongs to another io_context than the loop's");
}

// A server on the program's acceptor, listening (Python's start_serving calls listen() too;
// an acceptor not bound yet gets a free port, as there).
template <class Acceptor>
std::shared_ptr<detail::server_state> serve_on(client_connected_cb cb, Acceptor sock,
                                               std::size_t limit, const char* call) {
  check_adopted(sock, call);
  boost::system::error_code error;
  if (sock.listen(asio::socket_base::max_listen_connections, error))
    throw boost::system::system_error(error, "listen");
  std::vector<detail::server_state::listener> acceptors;
  acceptors.emplace_back(std::move(sock));
  return std::make_shared<detail::server_state>(std::move(acceptors), std::move(cb), limit);
}

}  // namespace

coroutine<std::pair<stream_reader, stream_writer>> open_connection(tcp::socket sock,
                                                                   std::size_t limit) {
  check_adopted(sock, "open_connection(sock)");
  no_delay(sock);
  co_return detail::stream_state::open(std::move(sock), limit);
}

coroutine<std::pair<stream_reader, stream_writer>> open_connection(tcp::socket sock,
                                                                   ssl_options ssl,
                                                                   std::size_t limit) {
  check_adopted(sock, "open_connection(sock, ssl)");
  if (ssl.server_hostname.empty())  // no host to check the certificate against
    throw std::invalid_argument(
        "open_connection(sock, ssl): server_hostname is required with a socket");
  no_delay(sock);
  auto name = ssl.server_hostname;
  co_return co_await tls_client(std::move(sock), std::move(ssl), std::move(name), limit);
}

coroutine<std::pair<stream_reader, stream_writer>> open_unix_connection(unix_socket sock,
                                                                        std::size_t limit) {
  check_adopted(sock, "open_unix_connection(sock)");
  co_return detail::stream_state::open(std::move(sock), limit);
}

coroutine<server> start_server(client_connected_cb cb, tcp::acceptor sock, std::size_t limit) {
  co_return serve_on(std::move(cb), std::move(sock), limit, "start_server(sock)")->start();
}

coroutine<server> start_server(client_connected_cb cb, tcp::acceptor sock, ssl_options ssl,
                               std::size_t limit) {
  auto state = serve_on(std::move(cb), std::move(sock), limit, "start_server(sock, ssl)");
  state->use_tls(ssl);
  co_return state->start();
}

coroutine<server> start_unix_server(client_connected_cb cb,
                                    unix_socket::protocol_type::acceptor sock, std::size_t limit) {
  boost::system::error_code ignored;  // one not open fails in serve_on
  const auto path = sock.local_endpoint(ignored).path();
  auto state = serve_on(std::move(cb), std::move(sock), limit, "start_unix_server(sock)");
  state->own_socket_file(path);
  co_return state->start();
}

std::uint16_t server::port() const { return sockets().front().port(); }

std::vector<tcp::endpoint> server::sockets() const {
  std::vector<tcp::endpoint> addresses;
  for (const auto& acceptor : s_->acceptors) {
    auto* tcp_acceptor = std::get_if<tcp::acceptor>(&acceptor);
    if (!tcp_acceptor) throw std::logic_error("a Unix server has a path, not a port");
    addresses.push_back(tcp_acceptor->local_endpoint());
  }
  return addresses;
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
  co_await wait(keep->accepting);
  // Connections accepted meanwhile are in the list too: it is only read once accepting ended.
  std::vector<task<>> handlers;
  for (auto& c : keep->connections) handlers.push_back(c.handler);
  if (!handlers.empty()) co_await wait(std::move(handlers));
}

coroutine<void> server::serve_forever() {
  auto keep = s_;
  std::exception_ptr cancelled;
  try {
    co_await wait(keep->accepting);  // ends when close() closes the acceptors; cancels none
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
