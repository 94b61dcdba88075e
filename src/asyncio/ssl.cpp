#include <asyncio/ssl.hpp>

#include <asyncio/errors.hpp>

#include <openssl/err.h>

namespace asyncio {

namespace asio = boost::asio;

namespace {

// What OpenSSL said last, as ssl_error.
[[noreturn]] void throw_ssl(const std::string& what, const boost::system::system_error& e) {
  throw ssl_error(what, e.code().message());
}

}  // namespace

ssl_context create_default_context() {
  ssl_context ctx(ssl_context::tls_client);
  ::SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
  ctx.set_default_verify_paths();
  ctx.set_verify_mode(asio::ssl::verify_peer);
  return ctx;
}

ssl_context create_server_context(const std::string& cert_file, const std::string& key_file) {
  ssl_context ctx(ssl_context::tls_server);
  ::SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
  try {
    ctx.use_certificate_chain_file(cert_file);
  } catch (const boost::system::system_error& e) {
    throw_ssl("cannot load the certificate chain " + cert_file, e);
  }
  try {
    ctx.use_private_key_file(key_file, ssl_context::pem);
  } catch (const boost::system::system_error& e) {
    throw_ssl("cannot load the private key " + key_file, e);
  }
  if (::SSL_CTX_check_private_key(ctx.native_handle()) != 1)
    throw ssl_error("create_server_context", "the private key does not match the certificate");
  return ctx;
}

}  // namespace asyncio
