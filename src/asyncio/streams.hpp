#pragma once

// asyncio's streams over TCP: open_connection() and start_server() give a stream_reader and a
// stream_writer, as in Python. The socket underneath is a plain Asio tcp::socket on the loop's
// io_context (writer.socket()), for whatever the wrappers do not cover. A subprocess's pipes
// (subprocess.hpp) are streams too.

#include <asyncio/coroutine.hpp>
#include <asyncio/detail/waiter_queue.hpp>
#include <asyncio/ssl.hpp>
#include <asyncio/task.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <ranges>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace asyncio {

class stream_reader;
class stream_writer;

namespace detail {
struct stream_state;
struct server_state;
/// A pipe's end as a reader and a writer (a subprocess's pipes use one of the two).
std::pair<stream_reader, stream_writer> open_pipe(boost::asio::posix::stream_descriptor pipe,
                                                  std::size_t limit);
/// Reads until the end of the stream, keeping every byte buffered: cancelled, it loses nothing.
coroutine<void> read_to_eof(stream_reader reader);
}  // namespace detail

/// The default buffer limit of a stream_reader (Python's 64 KiB).
inline constexpr std::size_t stream_limit = 64 * 1024;

/// asyncio.StreamReader: reads bytes (as std::string) from a connection, buffered up to a
/// limit. Only one coroutine may wait for data at a time (std::runtime_error otherwise).
class stream_reader {
public:
  /// read(n): up to n bytes, at least one unless the stream ended ("" then); n < 0: all
  /// bytes until the end of the stream.
  [[nodiscard]] coroutine<std::string> read(std::ptrdiff_t n = -1);
  /// readline(): a line with its '\n' (without one at the end of the stream). A line longer
  /// than the limit is dropped and std::invalid_argument thrown (Python's ValueError).
  [[nodiscard]] coroutine<std::string> readline();
  /// readexactly(n): n bytes, or incomplete_read_error with what came before the end.
  [[nodiscard]] coroutine<std::string> readexactly(std::size_t n);
  /// readuntil(separator): bytes up to and with the separator. limit_overrun_error if the
  /// limit is reached first (the data stays buffered); incomplete_read_error at the end.
  [[nodiscard]] coroutine<std::string> readuntil(std::string separator = "\n");
  /// readuntil((sep, ...)) (3.13): the shortest chunk that ends with any of the separators;
  /// where two end it, the shorter counts for the limit.
  [[nodiscard]] coroutine<std::string> readuntil(std::vector<std::string> separators);
  /// The same with the separators as arguments: `readuntil("\r\n", "\n")`. (Not a braced
  /// list: g++ 12 cannot keep one alive across a co_await.)
  // clang-format off
  template <class... Separators>
    requires(sizeof...(Separators) >= 2 &&
             (std::is_convertible_v<const Separators&, std::string_view> && ...))
  [[nodiscard]] coroutine<std::string> readuntil(const Separators&... separators) {
    // clang-format on
    return readuntil(std::vector<std::string>{std::string(std::string_view(separators))...});
  }
  /// at_eof(): the stream ended and its buffer is empty.
  bool at_eof() const noexcept;

private:
  friend struct detail::stream_state;
  friend struct detail::server_state;
  friend coroutine<void> detail::read_to_eof(stream_reader);
  explicit stream_reader(std::shared_ptr<detail::stream_state> s) noexcept : s_(std::move(s)) {}
  std::shared_ptr<detail::stream_state> s_;
};

/// asyncio.StreamWriter: write() buffers and sends in the background; drain() waits while
/// more than 64 KiB is unsent (until it is down to 16 KiB), and reports a failed send.
class stream_writer {
public:
  /// write(data): queued and sent in order; std::runtime_error after close() or write_eof().
  void write(std::string_view data);
  /// writelines(chunks): write() of each, in order.
  template <std::ranges::input_range Chunks>
  void writelines(const Chunks& chunks) {
    for (const auto& chunk : chunks) write(chunk);
  }
  /// write_eof(): once what was written is sent, ends the writing half (TCP, Unix sockets: the
  /// peer reads the end of the stream and can still answer; a pipe closes). std::runtime_error
  /// under TLS, which has no half-close (Python's NotImplementedError).
  void write_eof();
  /// can_write_eof(): false under TLS.
  bool can_write_eof() const noexcept;
  /// drain(): back-pressure; rethrows the error that broke the connection, if any. An
  /// operation, as a lock's acquire(): with nothing to wait for, it does not suspend.
  [[nodiscard]] auto drain() { return detail::primitive_wait<drain_kind>(drain_kind{s_}); }
  /// close(): sends what is queued, then closes the connection.
  void close();
  bool is_closing() const noexcept;
  /// wait_closed(): until the connection is closed.
  [[nodiscard]] coroutine<void> wait_closed();
  /// start_tls(ssl) (3.11): upgrades a plain TCP connection to TLS, once what was written is
  /// sent: the server's part on a connection a server accepted, else the client's (checking
  /// ssl.server_hostname, or the peer's address). Bytes the reader had already received are
  /// the start of the peer's handshake and go to TLS (uvloop#707 loses them).
  [[nodiscard]] coroutine<void> start_tls(ssl_options ssl);
  /// The Asio socket (Python's get_extra_info("socket")), under TLS too (what is read or
  /// written on it directly bypasses TLS); peer: socket().remote_endpoint(). std::logic_error
  /// for a pipe or a Unix stream.
  boost::asio::ip::tcp::socket& socket();

private:
  friend struct detail::stream_state;
  friend struct detail::server_state;
  explicit stream_writer(std::shared_ptr<detail::stream_state> s) noexcept : s_(std::move(s)) {}

  struct drain_kind {
    using value_type = void;
    std::shared_ptr<detail::stream_state> s;  // alive while it waits
    detail::waiter_queue& waiters() const noexcept;
    // Not paused (at most the low-water mark unsent), or failed.
    bool ready() const noexcept;
    void take() const;
    bool after_wait(const detail::wait_node&, std::exception_ptr error, outcome<void>& result);
  };

  std::shared_ptr<detail::stream_state> s_;
};

/// asyncio.open_connection(host, port): connects (resolving host) and gives reader and writer.
/// Errors are Asio's boost::system::system_error (connection refused, host not found, ...).
[[nodiscard]] coroutine<std::pair<stream_reader, stream_writer>> open_connection(
    std::string host, std::uint16_t port, std::size_t limit = stream_limit);

/// asyncio.open_unix_connection(path): connects to the Unix socket at path.
[[nodiscard]] coroutine<std::pair<stream_reader, stream_writer>> open_unix_connection(
    std::string path, std::size_t limit = stream_limit);

/// open_connection(host, port, ssl=ctx, server_hostname=...): the same over TLS. The handshake
/// is done when it returns; a bad certificate, a name that does not match, or any other
/// failure throws ssl_error with OpenSSL's reason; timeout_error after ssl.handshake_timeout.
/// close() sends close_notify; a peer that vanishes without one is the end of the stream.
[[nodiscard]] coroutine<std::pair<stream_reader, stream_writer>> open_connection(
    std::string host, std::uint16_t port, ssl_options ssl, std::size_t limit = stream_limit);

/// asyncio.open_connection(sock=sock): reader and writer over a TCP socket connected already
/// (by raw Asio code, say). std::invalid_argument if it is not open, or belongs to another
/// io_context than the running loop's.
[[nodiscard]] coroutine<std::pair<stream_reader, stream_writer>> open_connection(
    boost::asio::ip::tcp::socket sock, std::size_t limit = stream_limit);

/// open_connection(sock=sock, ssl=ctx, server_hostname=n): the client's handshake over it.
/// There is no host to check the certificate against but ssl.server_hostname: without one,
/// std::invalid_argument (Python's ValueError).
[[nodiscard]] coroutine<std::pair<stream_reader, stream_writer>> open_connection(
    boost::asio::ip::tcp::socket sock, ssl_options ssl, std::size_t limit = stream_limit);

/// asyncio.open_unix_connection(sock=sock): the same over a connected Unix socket.
[[nodiscard]] coroutine<std::pair<stream_reader, stream_writer>> open_unix_connection(
    boost::asio::local::stream_protocol::socket sock, std::size_t limit = stream_limit);

/// What start_server() runs for each connection, as a task of its own. When it returns, the
/// writer is closed (after what it wrote is sent); an exception it throws is logged.
using client_connected_cb = std::function<coroutine<void>(stream_reader, stream_writer)>;

/// asyncio.Server: listening until close().
class server {
public:
  /// The port it listens on (the one picked by the system when started with port 0; with
  /// several sockets and port 0, each has its own: the first one's); std::logic_error for a
  /// Unix server.
  std::uint16_t port() const;
  /// Server.sockets: the address each of its sockets listens on; std::logic_error for a Unix
  /// server.
  std::vector<boost::asio::ip::tcp::endpoint> sockets() const;
  bool is_serving() const noexcept;
  /// close(): stops accepting; connections already accepted go on. A Unix server removes its
  /// socket file, unless another has taken its place (3.13's cleanup_socket).
  void close();
  /// close_clients() (3.13): closes every connection's writer, after what it wrote is sent;
  /// their readers see the end of the stream.
  void close_clients();
  /// abort_clients() (3.13): closes every connection now, dropping what was not sent yet.
  void abort_clients();
  /// wait_closed(): until closed and every connection's callback has ended. Cancelling it
  /// cancels nothing else.
  [[nodiscard]] coroutine<void> wait_closed();
  /// serve_forever(): until close(); cancelling it closes the server (and waits for it).
  [[nodiscard]] coroutine<void> serve_forever();

private:
  friend struct detail::server_state;
  explicit server(std::shared_ptr<detail::server_state> s) noexcept : s_(std::move(s)) {}
  std::shared_ptr<detail::server_state> s_;
};

/// start_server's host, as Python's: a name or an address, "" for every interface, or a list
/// of them. Each address they resolve to (as for a listening socket: AI_PASSIVE) gets a
/// socket of its own; an IPv6 one takes IPv6 only, so that "" listens on 0.0.0.0 and on ::.
class server_host {
public:
  server_host(std::string host) : names_{std::move(host)} {}
  server_host(const char* host) : names_{std::string(host)} {}
  server_host(std::vector<std::string> hosts) : names_(std::move(hosts)) {}
  const std::vector<std::string>& names() const noexcept { return names_; }

private:
  std::vector<std::string> names_;
};

/// asyncio.start_server(cb, host, port): listens on host:port (port 0: any free port) and
/// runs cb(reader, writer) for each connection. An address that cannot be bound because its
/// family is not enabled here is skipped, as in Python (bpo-30945); any other bind error, or
/// none bound at all, throws std::system_error naming the address.
/// @code
/// auto srv = co_await asyncio::start_server(handle_echo, "127.0.0.1", 8888);
/// co_await srv.serve_forever();
/// @endcode
[[nodiscard]] coroutine<server> start_server(client_connected_cb cb, server_host host,
                                             std::uint16_t port, std::size_t limit = stream_limit);

/// start_server's other keyword arguments. (Trivial members only: g++ 12 mishandles an
/// aggregate temporary that owns memory inside a co_await statement.)
struct server_options {
  /// reuse_port=True (SO_REUSEPORT): several loops, or processes, listen on the same port and
  /// the kernel spreads the connections among them (one loop per core, loop_group.hpp).
  bool reuse_port = false;
};

/// start_server(cb, host, port, reuse_port=True, ...).
/// @code
/// auto srv = co_await asyncio::start_server(handle_echo, "0.0.0.0", 8888, {.reuse_port = true});
/// @endcode
[[nodiscard]] coroutine<server> start_server(client_connected_cb cb, server_host host,
                                             std::uint16_t port, server_options options,
                                             std::size_t limit = stream_limit);

/// start_server(cb, host, port, ssl=ctx): the same over TLS; each connection's handshake runs
/// in its own task, before cb. One that fails is logged and closed; the others are served on.
[[nodiscard]] coroutine<server> start_server(client_connected_cb cb, server_host host,
                                             std::uint16_t port, ssl_options ssl,
                                             server_options options = {},
                                             std::size_t limit = stream_limit);

/// asyncio.start_unix_server(cb, path): listens on a Unix socket at path. A socket file
/// already there is replaced only when nothing listens on it; else std::system_error
/// (address in use), as for a path that is no socket. A path that starts with a NUL byte is
/// a name in Linux's abstract namespace (no file), for this and open_unix_connection.
[[nodiscard]] coroutine<server> start_unix_server(client_connected_cb cb, std::string path,
                                                  std::size_t limit = stream_limit);

/// asyncio.start_server(cb, sock=sock): serves on an acceptor the program opened (and bound:
/// one not bound yet gets a free port, as in Python), listening on it if it does not yet.
/// std::invalid_argument if it is not open, or belongs to another io_context than the
/// running loop's.
[[nodiscard]] coroutine<server> start_server(client_connected_cb cb,
                                             boost::asio::ip::tcp::acceptor sock,
                                             std::size_t limit = stream_limit);

/// start_server(cb, sock=sock, ssl=ctx).
[[nodiscard]] coroutine<server> start_server(client_connected_cb cb,
                                             boost::asio::ip::tcp::acceptor sock, ssl_options ssl,
                                             std::size_t limit = stream_limit);

/// asyncio.start_unix_server(cb, sock=sock): serves on a bound Unix acceptor; close() removes
/// its socket file, as for a server started with a path.
[[nodiscard]] coroutine<server> start_unix_server(
    client_connected_cb cb, boost::asio::local::stream_protocol::acceptor sock,
    std::size_t limit = stream_limit);

}  // namespace asyncio
