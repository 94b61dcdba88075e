#pragma once

// A slow server on 127.0.0.1, for I/O-bound jobs that are real requests: it answers each line
// it reads with the same line, `delay` later. It runs in a child process of its own, so none
// of its CPU time or memory is counted against the clients measured, and it ends on its own:
// when its parent goes (the pipe between them closes) or after an hour at most.

#include <boost/asio.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <stdexcept>

namespace demo {

class slow_server {
public:
  explicit slow_server(std::chrono::milliseconds delay) {
    int control[2], report[2];
    if (::pipe(control) != 0 || ::pipe(report) != 0) throw std::runtime_error("pipe failed");
    std::fflush(nullptr);
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      ::close(control[1]);
      ::close(report[0]);
      ::_exit(serve(delay, control[0], report[1]));
    }
    ::close(control[0]);
    ::close(report[1]);
    control_ = control[1];
    bool got = ::read(report[0], &port_, sizeof port_) == sizeof port_;
    ::close(report[0]);
    if (!got) throw std::runtime_error("the slow server did not start");
  }
  ~slow_server() {
    ::close(control_);  // the server sees end-of-file and stops
    ::waitpid(pid_, nullptr, 0);
  }
  slow_server(const slow_server&) = delete;
  slow_server& operator=(const slow_server&) = delete;

  unsigned short port() const noexcept { return port_; }

private:
  using tcp = boost::asio::ip::tcp;

  static boost::asio::awaitable<void> answer(tcp::socket s, std::chrono::milliseconds delay) {
    namespace asio = boost::asio;
    constexpr auto token = asio::as_tuple(asio::use_awaitable);
    asio::streambuf in;
    for (;;) {
      auto [read_error, n] = co_await asio::async_read_until(s, in, '\n', token);
      if (read_error) co_return;  // the client is done
      std::string line(asio::buffers_begin(in.data()), asio::buffers_begin(in.data()) + n);
      in.consume(n);
      asio::steady_timer wait(s.get_executor(), delay);
      co_await wait.async_wait(token);
      auto [write_error, written] = co_await asio::async_write(s, asio::buffer(line), token);
      if (write_error) co_return;
    }
  }

  static boost::asio::awaitable<void> accept(tcp::acceptor& acceptor,
                                             std::chrono::milliseconds delay) {
    namespace asio = boost::asio;
    for (;;) {
      auto [error, s] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
      if (error == asio::error::operation_aborted) co_return;
      if (error) continue;  // e.g. out of descriptors for a moment: the client will see it
      asio::co_spawn(acceptor.get_executor(), answer(std::move(s), delay), log_error);
    }
  }

  static void log_error(std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      std::fprintf(stderr, "slow server: %s\n", x.what());
    }
  }

  static int serve(std::chrono::milliseconds delay, int control, int report) {
    namespace asio = boost::asio;
    try {
      asio::io_context ctx(1);
      tcp::acceptor acceptor(ctx, {asio::ip::make_address("127.0.0.1"), 0});
      acceptor.listen(asio::socket_base::max_listen_connections);
      unsigned short port = acceptor.local_endpoint().port();
      if (::write(report, &port, sizeof port) != sizeof port) return 1;
      ::close(report);
      asio::posix::stream_descriptor parent(ctx, control);
      char byte;
      parent.async_read_some(asio::buffer(&byte, 1), [&](auto...) { ctx.stop(); });
      asio::steady_timer lifetime(ctx, std::chrono::hours(1));
      lifetime.async_wait([&](auto...) { ctx.stop(); });
      asio::co_spawn(ctx, accept(acceptor, delay), log_error);
      ctx.run();
      return 0;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "slow server: %s\n", e.what());
      return 1;
    }
  }

  pid_t pid_ = -1;
  int control_ = -1;
  unsigned short port_ = 0;
};

}  // namespace demo
