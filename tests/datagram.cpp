#include <asyncio/datagram.hpp>

#include "test.hpp"

BOOST_AUTO_TEST_SUITE(datagram)

namespace {

using asyncio::host_port;
using udp = boost::asio::ip::udp;

const host_port any_port{"127.0.0.1", 0};

}  // namespace

CO_TEST_CASE(datagrams_go_both_ways_and_say_who_sent_them) {
  auto server = co_await asyncio::open_datagram_endpoint(any_port);
  auto client = co_await asyncio::open_datagram_endpoint(
      std::nullopt, host_port{"127.0.0.1", server.local_address().port()});
  client.send("ping");
  auto got = co_await server.recvfrom();
  BOOST_TEST(got.data == "ping");
  BOOST_TEST(got.addr == client.local_address());
  server.sendto("pong", got.addr);
  auto answer = co_await client.recvfrom();
  BOOST_TEST(answer.data == "pong");
  BOOST_TEST(answer.addr.port() == server.local_address().port());
  // Each datagram whole, never merged: a zero-length one too.
  client.send("");
  client.send(std::string(60000, 'x'));
  BOOST_TEST((co_await server.recvfrom()).data.empty());
  BOOST_TEST((co_await server.recvfrom()).data.size() == 60000u);
}

CO_TEST_CASE(a_small_datagram_holds_its_own_bytes_not_room_for_the_largest) {
  // A program that keeps what it receives keeps a few bytes per datagram, not 64 KiB.
  auto server = co_await asyncio::open_datagram_endpoint(any_port);
  auto client = co_await asyncio::open_datagram_endpoint(
      std::nullopt, host_port{"127.0.0.1", server.local_address().port()});
  std::vector<asyncio::datagram> kept;
  for (int i = 0; i < 100; ++i) {
    client.send("datagram " + std::to_string(i));
    kept.push_back(co_await server.recvfrom());
  }
  for (int i = 0; i < 100; ++i) {
    BOOST_TEST(kept[i].data == "datagram " + std::to_string(i));
    BOOST_TEST(kept[i].data.capacity() < 1024u);
  }
}

CO_TEST_CASE(an_oversized_datagram_fails_at_once_and_the_endpoint_keeps_working) {
  auto server = co_await asyncio::open_datagram_endpoint(any_port);
  auto client = co_await asyncio::open_datagram_endpoint(any_port);
  const auto to = server.local_address();
  try {
    client.sendto(std::string(70000, 'x'), to);
    BOOST_FAIL("sent");
  } catch (const boost::system::system_error& e) {
    BOOST_TEST(e.code() == boost::asio::error::message_size);
  }
  client.sendto("after", to);
  BOOST_TEST((co_await server.recvfrom()).data == "after");
  BOOST_CHECK_THROW(client.send("no remote"), std::logic_error);
}

CO_TEST_CASE(port_unreachable_reaches_the_next_recvfrom_and_the_endpoint_keeps_working) {
  std::uint16_t closed_port;
  {
    auto gone = co_await asyncio::open_datagram_endpoint(any_port);
    closed_port = gone.local_address().port();
    gone.close();
  }
  auto client =
      co_await asyncio::open_datagram_endpoint(std::nullopt, host_port{"127.0.0.1", closed_port});
  client.send("anyone?");
  try {
    co_await client.recvfrom();
    BOOST_FAIL("received");
  } catch (const boost::system::system_error& e) {
    BOOST_TEST(e.code() == boost::asio::error::connection_refused);
  }
  // Still usable: a peer that does answer, on the same socket.
  auto server = co_await asyncio::open_datagram_endpoint(any_port);
  client.sendto("now?", server.local_address());
  auto got = co_await server.recvfrom();
  BOOST_TEST(got.data == "now?");
}

CO_TEST_CASE(datagrams_lost_to_a_full_receive_buffer_are_counted_not_crashed) {
  auto server = co_await asyncio::open_datagram_endpoint(any_port);
  server.socket().set_option(boost::asio::socket_base::receive_buffer_size(4096));
  auto client = co_await asyncio::open_datagram_endpoint(any_port);
  const int sent = 1000;
  for (int i = 0; i < sent; ++i)
    client.sendto(std::string(1000, 'a' + i % 26), server.local_address());
  // Every datagram the buffer kept is there now (loopback delivers at once): read them all.
  int received = 0;
  while (server.socket().available() > 0) {
    auto got = co_await server.recvfrom();
    BOOST_TEST(got.data.size() == 1000u);
    ++received;
  }
  // A marker after them all (any the client had to queue arrive before it), then the count.
  client.sendto("still fine", server.local_address());
  for (;;) {
    auto got = co_await server.recvfrom();
    if (got.data == "still fine") break;
    ++received;
  }
  BOOST_TEST(received > 0);
  BOOST_TEST(received < sent);  // the rest were dropped by the kernel, and nothing broke
}

CO_TEST_CASE(close_ends_a_waiting_recvfrom_and_a_cancel_ends_it_as_cancelled) {
  auto ep = co_await asyncio::open_datagram_endpoint(any_port);
  auto waiting = asyncio::create_task(ep.recvfrom());
  co_await asyncio::sleep(0s);
  waiting.cancel();
  BOOST_CHECK_THROW(co_await *waiting, asyncio::cancelled_error);
  waiting = asyncio::create_task(ep.recvfrom());
  co_await asyncio::sleep(0s);
  ep.close();
  BOOST_TEST(ep.is_closing());
  BOOST_CHECK_THROW(co_await *waiting, boost::system::system_error);
  BOOST_CHECK_THROW(ep.sendto("x", udp::endpoint()), std::runtime_error);
  BOOST_CHECK_THROW(co_await asyncio::open_datagram_endpoint(std::nullopt), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()
