#pragma once

// TLS for the streams, as Python's `ssl` module gives it to asyncio: a context made by
// create_default_context() (a client's: the system's CA store, the peer's certificate and
// host name verified) or create_server_context(cert, key), handed to open_connection,
// start_server or stream_writer::start_tls through ssl_options. The engine is Boost.Asio's
// ssl::stream over OpenSSL; a failure reaches the awaiter as ssl_error (errors.hpp).

#include <boost/asio/ssl/context.hpp>

#include <chrono>
#include <string>

namespace asyncio {

/// ssl.SSLContext: Asio's, so that everything OpenSSL offers stays at hand.
using ssl_context = boost::asio::ssl::context;

/// ssl.create_default_context(): for a client: TLS 1.2 or later, the system's trusted CAs,
/// the server's certificate and host name verified.
ssl_context create_default_context();

/// ssl.create_default_context(Purpose.CLIENT_AUTH) + load_cert_chain(cert_file, key_file):
/// for a server, its certificate chain and private key from PEM files. A file that cannot be
/// read, or a key that does not match, throws ssl_error.
ssl_context create_server_context(const std::string& cert_file, const std::string& key_file);

/// The ssl=, server_hostname= and ssl_handshake_timeout= arguments of open_connection,
/// start_server and start_tls. (A class, not an aggregate: g++ 12 miscopies an aggregate
/// temporary made inside a co_await statement.)
class ssl_options {
public:
  /// `server_hostname`: the name a client checks the certificate against and sends as SNI;
  /// empty: the host it connects to (Python's default). Unused by a server.
  explicit ssl_options(ssl_context& context, std::string server_hostname = {},
                       std::chrono::milliseconds handshake_timeout = std::chrono::seconds(60))
      : context(&context),
        server_hostname(std::move(server_hostname)),
        handshake_timeout(handshake_timeout) {}

  ssl_context* context;
  std::string server_hostname;
  std::chrono::milliseconds handshake_timeout;
};

}  // namespace asyncio
