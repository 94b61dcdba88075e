#include <asyncio/streams.hpp>

#include <asyncio/detail/op_memory.hpp>
#include <asyncio/detail/resolve.hpp>

#include "test.hpp"

#include <asyncio/locks.hpp>

#include <boost/asio/local/stream_protocol.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

BOOST_AUTO_TEST_SUITE(streams)

namespace {

// Echoes every line back until the client is done.
asyncio::coroutine<void> echo(asyncio::stream_reader reader, asyncio::stream_writer writer) {
  for (;;) {
    auto line = co_await reader.readline();
    if (line.empty()) break;  // the end of the stream
    writer.write(line);
    co_await writer.drain();
  }
}

// Sends `data`, then closes: the client side of the reader tests.
asyncio::coroutine<void> send_then_close(asyncio::stream_reader, asyncio::stream_writer writer,
                                         std::string data) {
  writer.write(data);
  writer.close();
  co_await writer.wait_closed();
}

// A server whose every connection gets `data` and then the end of the stream.
asyncio::coroutine<asyncio::stream_reader> reader_of(std::string data, std::size_t limit) {
  asyncio::client_connected_cb cb = [data](asyncio::stream_reader r, asyncio::stream_writer w) {
    return send_then_close(r, w, data);
  };
  // The server stays open: closing it now would reset the connection not yet accepted. The
  // end of the test's run() cancels it.
  auto srv = co_await asyncio::start_server(cb, "127.0.0.1", 0);
  auto [reader, writer] = co_await asyncio::open_connection("127.0.0.1", srv.port(), limit);
  co_return reader;
}

// Reads to the end of the stream, then answers with what it read: write_eof's peer.
asyncio::coroutine<void> count_then_answer(asyncio::stream_reader reader,
                                           asyncio::stream_writer writer) {
  auto all = co_await reader.read();
  writer.write(std::to_string(all.size()) + " bytes, ending " + all.substr(all.size() - 3));
  writer.close();
  co_await writer.wait_closed();
}

}  // namespace

CO_TEST_CASE(write_eof_ends_the_peers_stream_once_all_is_sent_and_the_answer_still_comes) {
  auto srv = co_await asyncio::start_server(count_then_answer, "127.0.0.1", 0);
  auto [reader, writer] = co_await asyncio::open_connection("127.0.0.1", srv.port());
  BOOST_TEST(writer.can_write_eof());
  const std::vector<std::string> chunks{std::string(1 << 20, 'x'), "end"};
  writer.writelines(chunks);
  writer.write_eof();  // while the megabyte is still being sent: the end of it waits
  writer.write_eof();  // a second one changes nothing
  BOOST_CHECK_THROW(writer.write("late"), std::runtime_error);
  BOOST_TEST(!writer.is_closing());
  BOOST_TEST(co_await reader.read() == "1048579 bytes, ending end");
  BOOST_TEST(reader.at_eof());
  writer.close();
  co_await writer.wait_closed();
}

CO_TEST_CASE(echo_over_loopback_with_many_clients_on_one_thread) {
  auto srv = co_await asyncio::start_server(echo, "127.0.0.1", 0);
  BOOST_TEST(srv.is_serving());
  BOOST_TEST(srv.port() != 0);
  auto client = [](std::uint16_t port, int id) -> asyncio::coroutine<int> {
    auto [reader, writer] = co_await asyncio::open_connection("127.0.0.1", port);
    int echoed = 0;
    for (int i = 0; i < 5; ++i) {
      auto msg = "client " + std::to_string(id) + " line " + std::to_string(i) + "\n";
      writer.write(msg);
      co_await writer.drain();
      auto back = co_await reader.readline();
      echoed += back == msg;
    }
    writer.close();
    co_await writer.wait_closed();
    co_return echoed;
  };
  std::vector<asyncio::task<int>> clients;
  for (int id = 0; id < 20; ++id) clients.push_back(asyncio::create_task(client(srv.port(), id)));
  auto echoed = co_await asyncio::gather(clients);
  for (int e : echoed) BOOST_TEST(e == 5);
  srv.close();
  BOOST_TEST(!srv.is_serving());
  co_await srv.wait_closed();  // every connection's callback has ended
}

CO_TEST_CASE(read_readexactly_and_the_end_of_the_stream) {
  auto reader = co_await reader_of("hello world", asyncio::stream_limit);
  BOOST_TEST(co_await reader.readexactly(5) == "hello");
  BOOST_TEST(co_await reader.read(0) == "");
  BOOST_TEST(co_await reader.read(-1) == " world");  // everything up to the end
  BOOST_TEST(reader.at_eof());
  BOOST_TEST(co_await reader.read(10) == "");
  BOOST_TEST(co_await reader.readline() == "");

  auto short_one = co_await reader_of("abc", asyncio::stream_limit);
  try {
    co_await short_one.readexactly(5);
    BOOST_FAIL("no incomplete_read_error");
  } catch (const asyncio::incomplete_read_error& e) {
    BOOST_TEST(e.partial == "abc");
    BOOST_TEST(*e.expected == 5u);
  }
}

CO_TEST_CASE(readuntil_and_readline_keep_cpythons_limit_rules) {
  // readuntil: past the limit, limit_overrun_error and the data stays.
  auto reader = co_await reader_of("0123456789\nrest\n", 4);
  try {
    co_await reader.readuntil("\n");
    BOOST_FAIL("no limit_overrun_error");
  } catch (const asyncio::limit_overrun_error& e) {
    BOOST_TEST(e.consumed > 4u);
  }
  BOOST_TEST(co_await reader.readexactly(3) == "012");  // nothing was dropped

  // readline: the overlong line is dropped, std::invalid_argument; the next line reads fine.
  auto lines = co_await reader_of("0123456789\nok\n", 4);
  BOOST_CHECK_THROW(co_await lines.readline(), std::invalid_argument);
  BOOST_TEST(co_await lines.readline() == "ok\n");

  // At the end without the separator: incomplete_read_error holds the rest; readline gives it.
  auto tail = co_await reader_of("a;b;c", asyncio::stream_limit);
  BOOST_TEST(co_await tail.readuntil(";") == "a;");
  BOOST_TEST(co_await tail.readuntil(";") == "b;");
  try {
    co_await tail.readuntil(";");
    BOOST_FAIL("no incomplete_read_error");
  } catch (const asyncio::incomplete_read_error& e) {
    BOOST_TEST(e.partial == "c");
    BOOST_TEST(!e.expected);
  }
  auto unterminated = co_await reader_of("last", asyncio::stream_limit);
  BOOST_TEST(co_await unterminated.readline() == "last");
  BOOST_CHECK_THROW(co_await unterminated.readuntil(""), std::invalid_argument);
}

CO_TEST_CASE(readuntil_with_several_separators_takes_the_shortest_chunk_as_3_13_does) {
  auto reader = co_await reader_of("line 1\nline 2\rABCDEFGtail", asyncio::stream_limit);
  BOOST_TEST(co_await reader.readuntil("\r", "\n") == "line 1\n");
  BOOST_TEST(co_await reader.readuntil("\r", "\n") == "line 2\r");
  BOOST_TEST(co_await reader.readuntil("DEF", "BCDE") == "ABCDE");  // the first end wins
  std::vector<std::string> separators{"x", "G"};
  BOOST_TEST(co_await reader.readuntil(separators) == "FG");
  try {
    co_await reader.readuntil("\r\n", "\n");
    BOOST_FAIL("no incomplete_read_error");
  } catch (const asyncio::incomplete_read_error& e) {
    BOOST_TEST(e.partial == "tail");
  }

  // Of two separators ending the chunk, the shorter counts for the limit: "\n" at 10.
  auto limited = co_await reader_of("0123456789\n", 4);
  try {
    co_await limited.readuntil("9\n", "\n");
    BOOST_FAIL("no limit_overrun_error");
  } catch (const asyncio::limit_overrun_error& e) {
    BOOST_TEST(e.consumed == 10u);
  }
  BOOST_CHECK_THROW(co_await limited.readuntil(std::vector<std::string>{}), std::invalid_argument);
  BOOST_CHECK_THROW(co_await limited.readuntil("a", ""), std::invalid_argument);
  BOOST_TEST(co_await limited.readexactly(3) == "012");  // nothing was dropped
}

namespace {

asyncio::coroutine<void> send_when_set(asyncio::event& go, asyncio::stream_writer writer) {
  co_await go.wait();
  writer.write("hello\n");
  writer.close();
  co_await writer.wait_closed();
}

}  // namespace

CO_TEST_CASE(a_waiting_read_keeps_its_stream_when_every_handle_is_gone) {
  asyncio::event go;
  asyncio::client_connected_cb cb = [&go](asyncio::stream_reader, asyncio::stream_writer w) {
    return send_when_set(go, w);
  };
  auto srv = co_await asyncio::start_server(cb, "127.0.0.1", 0);
  using read_fn = asyncio::coroutine<std::string> (*)(asyncio::stream_reader&);
  const read_fn reads[] = {
      [](asyncio::stream_reader& r) { return r.read(100); },
      [](asyncio::stream_reader& r) { return r.read(-1); },
      [](asyncio::stream_reader& r) { return r.readexactly(6); },
      [](asyncio::stream_reader& r) { return r.readuntil("o\n"); },
      [](asyncio::stream_reader& r) { return r.readline(); },
  };
  std::vector<asyncio::task<std::string>> pending;
  for (auto read : reads) {
    auto handles = co_await asyncio::open_connection("127.0.0.1", srv.port());
    pending.push_back(asyncio::create_task(read(handles.first)));
    co_await asyncio::sleep(0s);  // its first step starts the read, which waits
  }  // the reader and writer handles are gone: only each waiting read holds its stream
  go.set();
  for (auto& t : pending) BOOST_TEST(co_await *t == "hello\n");
  srv.close();
  co_await srv.wait_closed();
}

CO_TEST_CASE(cancelling_a_pending_read_gives_cancelled_error_and_loses_nothing) {
  auto srv = co_await asyncio::start_server(echo, "127.0.0.1", 0);
  auto [reader, writer] = co_await asyncio::open_connection("127.0.0.1", srv.port());
  auto pending = asyncio::create_task(reader.readline());  // nothing comes: it waits
  co_await asyncio::sleep(0s);                             // its first step starts the read
  pending.cancel("enough");
  try {
    co_await *pending;
    BOOST_FAIL("not cancelled");
  } catch (const asyncio::cancelled_error& e) {
    BOOST_TEST(std::string(e.what()) == "enough");
  }
  writer.write("after\n");  // the stream still works
  BOOST_TEST(co_await reader.readline() == "after\n");
  writer.close();
  srv.close();
  co_await srv.wait_closed();
}

CO_TEST_CASE(drain_waits_while_the_peer_does_not_read) {
  asyncio::event peer_reads;
  auto slow_reader = [](asyncio::stream_reader r, asyncio::stream_writer,
                        asyncio::event* go) -> asyncio::coroutine<void> {
    co_await go->wait();
    std::size_t total = 0;
    for (;;) {
      auto chunk = co_await r.read(1 << 16);
      if (chunk.empty()) break;
      total += chunk.size();
    }
    BOOST_TEST(total == 32u << 20);
  };
  asyncio::client_connected_cb cb = [&peer_reads, slow_reader](asyncio::stream_reader r,
                                                               asyncio::stream_writer w) {
    return slow_reader(r, w, &peer_reads);
  };
  auto srv = co_await asyncio::start_server(cb, "127.0.0.1", 0);
  auto [reader, writer] = co_await asyncio::open_connection("127.0.0.1", srv.port());
  writer.write(std::string(32u << 20, 'x'));  // 32 MiB: more than any socket buffers hold
  auto draining = asyncio::create_task(writer.drain());
  co_await asyncio::sleep(5ms);
  BOOST_TEST(!draining.done());  // back-pressure: the peer reads nothing yet
  peer_reads.set();
  co_await *draining;
  writer.close();
  co_await writer.wait_closed();
  srv.close();
  co_await srv.wait_closed();  // the peer counted every byte
}

// As Python's transport, write() hands the kernel what it takes at once: a connection the peer
// reset fails there, and the next drain() says so (it would wait for an operation otherwise).
CO_TEST_CASE(a_write_to_a_connection_the_peer_reset_fails_at_the_next_drain) {
  using tcp = boost::asio::ip::tcp;
  auto& loop = asyncio::get_running_loop();
  tcp::acceptor acceptor(loop.context(), {boost::asio::ip::address_v4::loopback(), 0});
  tcp::socket client(loop.context());
  co_await client.async_connect(acceptor.local_endpoint(), boost::asio::use_awaitable);
  auto peer = co_await acceptor.async_accept(boost::asio::use_awaitable);
  auto [reader, writer] = co_await asyncio::open_connection(std::move(client));
  peer.set_option(tcp::socket::linger(true, 0));
  peer.close();  // a reset, not an orderly end
  BOOST_CHECK_THROW(co_await reader.read(), boost::system::system_error);  // reset by peer
  writer.write("into the void\n");
  BOOST_CHECK_THROW(co_await writer.drain(), boost::system::system_error);
  writer.write("dropped\n");  // after a failed send, as in Python: no exception here
  BOOST_CHECK_THROW(co_await writer.drain(), boost::system::system_error);
  writer.close();
  co_await writer.wait_closed();
}

// As Python's, whose drain() does not await with nothing to wait for: nothing else runs
// meanwhile, and a pending cancel waits for the task's next real suspension.
CO_TEST_CASE(a_drain_with_nothing_to_wait_for_does_not_suspend) {
  auto srv = co_await asyncio::start_server(echo, "127.0.0.1", 0);
  auto [reader, writer] = co_await asyncio::open_connection("127.0.0.1", srv.port());
  std::vector<std::string> log;
  asyncio::get_running_loop().call_soon([&log] { log.push_back("callback"); });
  asyncio::current_task().cancel();
  writer.write("line\n");
  co_await writer.drain();
  log.push_back("drained");
  BOOST_TEST(log == (std::vector<std::string>{"drained"}), boost::test_tools::per_element());
  BOOST_CHECK_THROW(co_await asyncio::sleep(0s), asyncio::cancelled_error);
  asyncio::current_task().uncancel();
  BOOST_TEST(co_await reader.readline() == "line\n");
  writer.close();
  srv.close();
  co_await srv.wait_closed();
}

namespace {

std::size_t threads_of_this_process() {
  std::size_t n = 0;
  for ([[maybe_unused]] auto& entry : std::filesystem::directory_iterator("/proc/self/task")) ++n;
  return n;
}

}  // namespace

// As Python's _ipaddr_info: an address is read at once, with no lookup on the resolver's
// thread (which Asio would start for this loop); a name is still looked up.
CO_TEST_CASE(an_address_needs_no_lookup_and_a_name_is_looked_up) {
  const auto threads = threads_of_this_process();
  auto srv = co_await asyncio::start_server(echo, "127.0.0.1", 0);
  auto [reader, writer] = co_await asyncio::open_connection("127.0.0.1", srv.port());
  BOOST_TEST(threads_of_this_process() <= threads);  // no resolver thread was started
  writer.write("by address\n");
  BOOST_TEST(co_await reader.readline() == "by address\n");
  writer.close();

  auto [by_name, by_name_writer] = co_await asyncio::open_connection("localhost", srv.port());
  by_name_writer.write("by name\n");
  BOOST_TEST(co_await by_name.readline() == "by name\n");
  by_name_writer.close();
  srv.close();
  co_await srv.wait_closed();
}

namespace {

bool no_delay(asyncio::stream_writer& w) {
  boost::asio::ip::tcp::no_delay option;
  w.socket().get_option(option);
  return option.value();
}

asyncio::coroutine<void> tell_no_delay(asyncio::stream_writer w, asyncio::future<bool>* told) {
  told->set_result(no_delay(w));
  co_return;
}

}  // namespace

// As Python's TCP transports (since 3.6): Nagle's algorithm is off at both ends, so that a
// reply written in pieces is not held back until the peer's delayed ACK.
CO_TEST_CASE(tcp_streams_have_nagles_algorithm_off_at_both_ends) {
  asyncio::future<bool> server_side;
  asyncio::client_connected_cb cb = [&server_side](asyncio::stream_reader,
                                                   asyncio::stream_writer w) {
    return tell_no_delay(std::move(w), &server_side);
  };
  auto srv = co_await asyncio::start_server(cb, "127.0.0.1", 0);
  auto [reader, writer] = co_await asyncio::open_connection("127.0.0.1", srv.port());
  BOOST_TEST(no_delay(writer));
  BOOST_TEST(co_await *server_side);
  writer.close();
  srv.close();
  co_await srv.wait_closed();
}

namespace {

bool ipv6_loopback_here() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor probe(io);
  boost::system::error_code error;
  probe.open(boost::asio::ip::tcp::v6(), error);
  if (!error) probe.bind({boost::asio::ip::address_v6::loopback(), 0}, error);
  return !error;
}

asyncio::coroutine<std::string> echoed_by(boost::asio::ip::tcp::endpoint at) {
  auto [reader, writer] = co_await asyncio::open_connection(at.address().to_string(), at.port());
  writer.write("hello\n");
  auto line = co_await reader.readline();
  writer.close();
  co_return line;
}

}  // namespace

// As Python's create_server: each address of each host given gets a socket of its own (an
// address of a family not enabled here is skipped), and each serves.
CO_TEST_CASE(a_server_listens_on_every_address_it_is_given) {
  std::vector<std::string> hosts{"127.0.0.1", "::1", "127.0.0.1"};
  auto srv = co_await asyncio::start_server(echo, hosts, 0);
  auto sockets = srv.sockets();
  BOOST_TEST_REQUIRE(sockets.size() == (ipv6_loopback_here() ? 2u : 1u));  // once each
  BOOST_TEST(sockets[0].address().to_string() == "127.0.0.1");
  BOOST_TEST(srv.port() == sockets[0].port());
  for (const auto& at : sockets) BOOST_TEST(co_await echoed_by(at) == "hello\n");
  srv.close();
  BOOST_TEST(!srv.is_serving());
  co_await srv.wait_closed();
}

// "" is every interface, as for Python's listening sockets (AI_PASSIVE); resolved only here,
// as the tests listen on loopback alone.
CO_TEST_CASE(an_empty_host_is_every_interface_to_a_server) {
  using tcp = boost::asio::ip::tcp;
  auto found = co_await asyncio::detail::resolve<tcp>("", 8888, tcp::resolver::passive);
  std::vector<std::string> addresses;
  for (const auto& entry : found) addresses.push_back(entry.endpoint().address().to_string());
  BOOST_TEST(std::count(addresses.begin(), addresses.end(), "0.0.0.0") == 1);
  BOOST_TEST(std::all_of(addresses.begin(), addresses.end(),
                         [](const auto& a) { return a == "0.0.0.0" || a == "::"; }));
}

CO_TEST_CASE(a_port_in_use_is_a_system_error_naming_the_address) {
  auto srv = co_await asyncio::start_server(echo, "127.0.0.1", 0);
  const auto where = "127.0.0.1:" + std::to_string(srv.port());
  std::string error;
  try {
    auto second = co_await asyncio::start_server(echo, "127.0.0.1", srv.port());
    second.close();
  } catch (const boost::system::system_error& e) {
    BOOST_TEST(e.code() == boost::asio::error::address_in_use);
    error = e.what();
  }
  BOOST_TEST(error.find(where) != std::string::npos, "error: " << error);
  srv.close();
  co_await srv.wait_closed();
}

CO_TEST_CASE(a_refused_connection_is_a_system_error) {
  auto srv = co_await asyncio::start_server(echo, "127.0.0.1", 0);
  auto port = srv.port();
  srv.close();
  co_await srv.wait_closed();
  BOOST_CHECK_THROW(co_await asyncio::open_connection("127.0.0.1", port),
                    boost::system::system_error);
}

CO_TEST_CASE(a_failing_callback_is_logged_and_its_connection_closed) {
  test::log_capture log;
  auto failing = [](asyncio::stream_reader, asyncio::stream_writer) -> asyncio::coroutine<void> {
    throw std::runtime_error("handler broke");
    co_return;
  };
  auto srv = co_await asyncio::start_server(failing, "127.0.0.1", 0);
  auto [reader, writer] = co_await asyncio::open_connection("127.0.0.1", srv.port());
  BOOST_TEST(co_await reader.read() == "");  // the server closed it: the end of the stream
  srv.close();
  co_await srv.wait_closed();
  BOOST_TEST(log.contains("handler broke"));
}

CO_TEST_CASE(serve_forever_ends_with_close_and_cancelling_it_closes_the_server) {
  auto srv = co_await asyncio::start_server(echo, "127.0.0.1", 0);
  auto serving = asyncio::create_task(srv.serve_forever());
  co_await asyncio::sleep(0s);  // it serves, from its first step
  serving.cancel();
  BOOST_CHECK_THROW(co_await *serving, asyncio::cancelled_error);
  BOOST_TEST(!srv.is_serving());

  auto other = co_await asyncio::start_server(echo, "127.0.0.1", 0);
  auto until_closed = asyncio::create_task(other.serve_forever());
  co_await asyncio::sleep(0s);  // it serves, from its first step
  other.close();
  co_await *until_closed;
}

namespace {

// What a handler did, for the shutdown tests: it started, saw the end of the stream, or ended.
struct connection_log {
  asyncio::event started;
  bool saw_eof = false, cancelled = false;
};

// Reads until the end of the stream, or until `gate` opens when it is given.
asyncio::coroutine<void> idle_handler(asyncio::stream_reader r, asyncio::stream_writer,
                                      connection_log* log, asyncio::event* gate) {
  log->started.set();
  try {
    if (gate)
      co_await gate->wait();
    else
      log->saw_eof = (co_await r.read()).empty();
  } catch (const asyncio::cancelled_error&) {
    log->cancelled = true;
    throw;
  }
}

// Writes without end to a client that never reads, until the connection fails.
asyncio::coroutine<void> flooding_handler(asyncio::stream_reader, asyncio::stream_writer w,
                                          connection_log* log) {
  log->started.set();
  const std::string chunk(1 << 20, 'x');
  for (;;) {
    w.write(chunk);
    co_await w.drain();
  }
}

}  // namespace

CO_TEST_CASE(close_clients_ends_idle_connections_so_wait_closed_returns) {
  connection_log log;
  asyncio::client_connected_cb cb = [&log](asyncio::stream_reader r, asyncio::stream_writer w) {
    return idle_handler(r, w, &log, nullptr);
  };
  auto srv = co_await asyncio::start_server(cb, "127.0.0.1", 0);
  auto [reader, writer] = co_await asyncio::open_connection("127.0.0.1", srv.port());
  co_await log.started.wait();  // the client sends nothing: only close_clients() ends it
  srv.close();
  srv.close_clients();
  co_await asyncio::wait_for(srv.wait_closed(), 10s);  // the bound turns a hang into a failure
  BOOST_TEST(log.saw_eof);
  BOOST_TEST(co_await reader.read() == "");  // the client sees the end of the stream too
}

CO_TEST_CASE(abort_clients_ends_a_connection_stuck_on_a_client_that_never_reads) {
  test::log_capture captured;
  connection_log log;
  asyncio::client_connected_cb cb = [&log](asyncio::stream_reader r, asyncio::stream_writer w) {
    return flooding_handler(r, w, &log);
  };
  auto srv = co_await asyncio::start_server(cb, "127.0.0.1", 0);
  auto [reader, writer] = co_await asyncio::open_connection("127.0.0.1", srv.port());
  co_await log.started.wait();
  srv.close();
  srv.abort_clients();
  co_await asyncio::wait_for(srv.wait_closed(), 10s);
  BOOST_TEST(captured.contains("write"));  // the handler's drain() failed, and was logged
}

CO_TEST_CASE(cancelling_wait_closed_cancels_no_connection) {
  connection_log log;
  asyncio::event gate;
  asyncio::client_connected_cb cb = [&log, &gate](asyncio::stream_reader r,
                                                  asyncio::stream_writer w) {
    return idle_handler(r, w, &log, &gate);
  };
  auto srv = co_await asyncio::start_server(cb, "127.0.0.1", 0);
  auto [reader, writer] = co_await asyncio::open_connection("127.0.0.1", srv.port());
  co_await log.started.wait();
  srv.close();
  auto waiting = asyncio::create_task(srv.wait_closed());
  co_await asyncio::sleep(0s);
  waiting.cancel();
  BOOST_CHECK_THROW(co_await *waiting, asyncio::cancelled_error);
  gate.set();
  co_await srv.wait_closed();
  BOOST_TEST(!log.cancelled);
}

BOOST_AUTO_TEST_CASE(nothing_is_alive_after_run_with_open_connections) {
  auto body = [](test::live) -> asyncio::coroutine<void> {
    auto srv = co_await asyncio::start_server(echo, "127.0.0.1", 0);
    auto [reader, writer] = co_await asyncio::open_connection("127.0.0.1", srv.port());
    writer.write("left open\n");
    co_await asyncio::sleep(1ms);  // main returns with the server and a connection open
  };
  asyncio::run(body({}));
  BOOST_TEST(test::live::count == 0);
}

// ---- Unix sockets ----

std::string socket_path(const char* name) {
  return "/tmp/asyncio-test-" + std::string(name) + "-" + std::to_string(::getpid()) + ".sock";
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

CO_TEST_CASE(a_unix_server_echoes_and_removes_its_socket_file_on_close) {
  const auto path = socket_path("echo");
  auto srv = co_await asyncio::start_unix_server(echo, path);
  BOOST_TEST(exists(path));
  BOOST_CHECK_THROW(srv.port(), std::logic_error);
  BOOST_CHECK_THROW(srv.sockets(), std::logic_error);
  auto [reader, writer] = co_await asyncio::open_unix_connection(path);
  writer.write("over a unix socket\n");
  BOOST_TEST(co_await reader.readline() == "over a unix socket\n");
  BOOST_CHECK_THROW(writer.socket(), std::logic_error);  // no TCP socket under it
  // Half-closed, the server still answers the line before the end, then ends too.
  BOOST_TEST(writer.can_write_eof());
  writer.write("and the last\n");
  writer.write_eof();
  BOOST_TEST(co_await reader.readline() == "and the last\n");
  BOOST_TEST(co_await reader.read() == "");
  writer.close();
  co_await writer.wait_closed();
  srv.close();
  co_await srv.wait_closed();
  BOOST_TEST(!exists(path));
  BOOST_CHECK_THROW(co_await asyncio::open_unix_connection(path), boost::system::system_error);
}

CO_TEST_CASE(a_stale_socket_file_is_replaced_but_one_in_use_is_not) {
  const auto path = socket_path("stale");
  {  // a socket file nothing listens on, as a crashed server leaves it
    boost::asio::local::stream_protocol::acceptor gone(asyncio::get_running_loop().context());
    gone.open();
    gone.bind(boost::asio::local::stream_protocol::endpoint(path));
  }
  BOOST_TEST(exists(path));
  auto srv = co_await asyncio::start_unix_server(echo, path);
  BOOST_CHECK_THROW(co_await asyncio::start_unix_server(echo, path), boost::system::system_error);
  auto [reader, writer] = co_await asyncio::open_unix_connection(path);  // the first still serves
  writer.write("still here\n");
  BOOST_TEST(co_await reader.readline() == "still here\n");
  writer.close();
  srv.close();
  co_await srv.wait_closed();
  BOOST_TEST(!exists(path));
}

CO_TEST_CASE(a_name_in_the_abstract_namespace_is_a_unix_socket_without_a_file) {
  const auto name = std::string(1, '\0') + "asyncio-test-abstract-" + std::to_string(::getpid());
  auto srv = co_await asyncio::start_unix_server(echo, name);
  auto [reader, writer] = co_await asyncio::open_unix_connection(name);
  writer.write("abstract\n");
  BOOST_TEST(co_await reader.readline() == "abstract\n");
  try {  // the name is taken while the server listens, and the error shows it as ss does
    co_await asyncio::start_unix_server(echo, name);
    BOOST_FAIL("bound twice");
  } catch (const boost::system::system_error& e) {
    BOOST_TEST(e.code() == boost::asio::error::address_in_use);
    BOOST_TEST(std::string(e.what()).find("@asyncio-test-abstract-") != std::string::npos);
  }
  writer.close();
  co_await writer.wait_closed();
  srv.close();
  co_await srv.wait_closed();
  auto again = co_await asyncio::start_unix_server(echo, name);  // free once closed
  again.close();
}

CO_TEST_CASE(a_file_that_is_no_socket_is_left_alone) {
  const auto path = socket_path("regular");
  std::ofstream(path) << "keep me";
  BOOST_CHECK_THROW(co_await asyncio::start_unix_server(echo, path), boost::system::system_error);
  std::ifstream in(path);
  std::string kept;
  std::getline(in, kept);
  BOOST_TEST(kept == "keep me");
  ::unlink(path.c_str());
}

// sock=: a program's own Asio sockets and acceptors, taken over by the streams.
CO_TEST_CASE(open_connection_and_start_server_take_the_programs_own_sockets) {
  using tcp = boost::asio::ip::tcp;
  auto& loop = asyncio::get_running_loop();
  const tcp::endpoint any_port(boost::asio::ip::address_v4::loopback(), 0);
  tcp::acceptor acceptor(loop.context());  // bound here, not yet listening
  acceptor.open(tcp::v4());
  acceptor.bind(any_port);
  const auto port = acceptor.local_endpoint().port();
  auto srv = co_await asyncio::start_server(echo, std::move(acceptor));
  BOOST_TEST(srv.port() == port);
  tcp::socket sock(loop.context());
  co_await sock.async_connect({any_port.address(), port}, boost::asio::use_awaitable);
  auto [reader, writer] = co_await asyncio::open_connection(std::move(sock));
  tcp::no_delay no_delay;
  writer.socket().get_option(no_delay);
  BOOST_TEST(no_delay.value());  // as on the connections open_connection makes
  writer.write("taken over\n");
  BOOST_TEST(co_await reader.readline() == "taken over\n");
  writer.close();
  co_await writer.wait_closed();
  srv.close();
  co_await srv.wait_closed();
}

CO_TEST_CASE(a_socket_closed_or_of_another_io_context_is_refused) {
  using tcp = boost::asio::ip::tcp;
  auto what = [](const std::invalid_argument& e) {
    BOOST_TEST_MESSAGE(e.what());
    return true;
  };
  tcp::socket closed(asyncio::get_running_loop().context());
  BOOST_CHECK_EXCEPTION(co_await asyncio::open_connection(std::move(closed)), std::invalid_argument,
                        what);
  boost::asio::io_context other;
  tcp::socket foreign(other);
  foreign.open(tcp::v4());
  try {
    co_await asyncio::open_connection(std::move(foreign));
    BOOST_FAIL("taken");
  } catch (const std::invalid_argument& e) {
    BOOST_TEST(std::string(e.what()).find("another io_context") != std::string::npos);
  }
  tcp::acceptor foreign_acceptor(other, {boost::asio::ip::address_v4::loopback(), 0});
  BOOST_CHECK_EXCEPTION(co_await asyncio::start_server(echo, std::move(foreign_acceptor)),
                        std::invalid_argument, what);
}

CO_TEST_CASE(a_unix_server_on_the_programs_acceptor_removes_its_file_on_close) {
  using local = boost::asio::local::stream_protocol;
  auto& loop = asyncio::get_running_loop();
  const auto path = socket_path("sock");
  local::acceptor acceptor(loop.context());
  acceptor.open();
  acceptor.bind(local::endpoint(path));
  auto srv = co_await asyncio::start_unix_server(echo, std::move(acceptor));
  local::socket sock(loop.context());
  co_await sock.async_connect(local::endpoint(path), boost::asio::use_awaitable);
  auto [reader, writer] = co_await asyncio::open_unix_connection(std::move(sock));
  writer.write("local\n");
  BOOST_TEST(co_await reader.readline() == "local\n");
  writer.close();
  co_await writer.wait_closed();
  srv.close();
  co_await srv.wait_closed();
  BOOST_TEST(!exists(path));
}

// The memory of a stream's reads and writes: recycled per thread by size class, kept whole
// so any thread's cache can take a block freed there, bounded, and never more than asked.
BOOST_AUTO_TEST_CASE(operation_memory_is_recycled_per_thread_and_bounded) {
  using asyncio::detail::op_memory;
  void* a = op_memory::allocate(100);
  op_memory::deallocate(a, 100);
  BOOST_TEST(op_memory::allocate(128) == a);  // the same class (65-128 bytes): reused
  void* b = op_memory::allocate(129);         // the next class: not that block
  BOOST_TEST(b != a);
  std::memset(b, 0xab, 192);  // a block holds its whole class (ASan checks)
  op_memory::deallocate(b, 129);
  op_memory::deallocate(a, 128);

  void* big = op_memory::allocate(4096);  // beyond the classes: the heap's, as asked
  op_memory::deallocate(big, 4096);

  // Freed on another thread, a block goes to that thread's cache, or to the heap once that
  // thread's cache is gone; either way it is whole.
  void* crossing = op_memory::allocate(64);
  std::thread([crossing] { op_memory::deallocate(crossing, 64); }).join();

  // At most 64 blocks a class are kept: the rest go back to the heap (ASan/valgrind see no leak).
  std::vector<void*> many;
  for (int i = 0; i < 200; ++i) many.push_back(op_memory::allocate(500));
  for (void* p : many) op_memory::deallocate(p, 500);
}

BOOST_AUTO_TEST_SUITE_END()
