#pragma once

#include <asyncio/coroutine.hpp>
#include <asyncio/detail/operation.hpp>  // throw_cancelled
#include <asyncio/event_loop.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstdint>
#include <string>

namespace asyncio::detail {

/// host:port as endpoints of Protocol (tcp, udp): a name may give several. A cancelled task
/// gets its cancelled_error; a name that does not resolve, Asio's system_error. `flags`:
/// getaddrinfo's (passive: for a listening socket, "" is every interface).
template <class Protocol>
coroutine<typename Protocol::resolver::results_type> resolve(
    std::string host, std::uint16_t port, typename Protocol::resolver::flags flags = {}) {
  using resolver_type = typename Protocol::resolver;
  resolver_type resolver(get_running_loop().get_executor());
  // An address needs no lookup, as Python's _ipaddr_info knows: it is read here, at once,
  // where a name goes to the resolver's thread.
  const auto service = std::to_string(port);
  boost::system::error_code not_an_address;
  auto address = resolver.resolve(
      host, service, flags | resolver_type::numeric_host | resolver_type::numeric_service,
      not_an_address);
  if (!not_an_address) co_return address;
  auto [error, found] = co_await resolver.async_resolve(
      host, service, flags, boost::asio::as_tuple(boost::asio::use_awaitable));
  if (error == boost::asio::error::operation_aborted) throw_cancelled();
  if (error) throw boost::system::system_error(error, "resolve");
  co_return found;
}

}  // namespace asyncio::detail
