#pragma once

// Certificates made on the fly with OpenSSL, for the --tls demos and the TLS tests: a CA, and
// server certificates it signs for a host name or an IP address, valid now or already expired.
// Nothing is read from or written to disk.

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <memory>
#include <stdexcept>
#include <string>

namespace demo {

/// A private key and its certificate, in PEM.
struct pem_pair {
  std::string key, cert;
};

class certificate_authority {
public:
  explicit certificate_authority(const std::string& name = "asyncio-cpp test CA")
      : key_(new_key()), cert_(make(name, key_.get(), nullptr, nullptr, 0, 3600, true, "")) {}

  std::string cert_pem() const { return pem_of(cert_.get()); }

  /// A server certificate for `host` (a DNS name or an IP address, as its subjectAltName),
  /// valid from `from_s` to `to_s` seconds from now (both negative: expired).
  pem_pair issue(const std::string& host, long from_s = -60, long to_s = 3600) const {
    key_ptr key = new_key();
    x509_ptr cert = make(host, key.get(), key_.get(), cert_.get(), from_s, to_s, false, host);
    return {key_pem(key.get()), pem_of(cert.get())};
  }

  /// A self-signed certificate for `host`: what a demo's --tls server shows (its client then
  /// trusts that certificate alone).
  static pem_pair self_signed(const std::string& host) {
    key_ptr key = new_key();
    x509_ptr cert = make(host, key.get(), nullptr, nullptr, -60, 3600, false, host);
    return {key_pem(key.get()), pem_of(cert.get())};
  }

private:
  using key_ptr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
  using x509_ptr = std::unique_ptr<X509, decltype(&X509_free)>;

  static key_ptr new_key() {
    key_ptr key(EVP_EC_gen("P-256"), &EVP_PKEY_free);
    if (!key) throw std::runtime_error("cannot make a key");
    return key;
  }

  // A certificate for `name` with `key`, signed by `issuer_key` (itself when null).
  static x509_ptr make(const std::string& name, EVP_PKEY* key, EVP_PKEY* issuer_key, X509* issuer,
                       long from_s, long to_s, bool ca, const std::string& host) {
    x509_ptr cert(X509_new(), &X509_free);
    static long serial = 1;
    X509_set_version(cert.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial++);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), from_s);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), to_s);
    X509_set_pubkey(cert.get(), key);
    X509_NAME* subject = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(name.c_str()), -1, -1, 0);
    X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : subject);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer ? issuer : cert.get(), cert.get(), nullptr, nullptr, 0);
    auto add = [&](int nid, const std::string& value) {
      X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
      if (!ext) throw std::runtime_error("bad certificate extension " + value);
      X509_add_ext(cert.get(), ext, -1);
      X509_EXTENSION_free(ext);
    };
    add(NID_basic_constraints, ca ? "critical,CA:TRUE" : "CA:FALSE");
    if (ca) add(NID_key_usage, "critical,keyCertSign,cRLSign");
    if (!host.empty()) {
      bool ip = host.find_first_not_of("0123456789.") == std::string::npos ||
                host.find(':') != std::string::npos;
      add(NID_subject_alt_name, (ip ? "IP:" : "DNS:") + host);
    }
    if (!X509_sign(cert.get(), issuer_key ? issuer_key : key, EVP_sha256()))
      throw std::runtime_error("cannot sign a certificate");
    return cert;
  }

  static std::string pem_of(X509* cert) {
    return to_string([cert](BIO* bio) { return PEM_write_bio_X509(bio, cert); });
  }

  static std::string key_pem(EVP_PKEY* key) {
    return to_string([key](BIO* bio) {
      return PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
    });
  }

  template <class Write>
  static std::string to_string(Write write) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
    if (!write(bio.get())) throw std::runtime_error("cannot write PEM");
    char* data = nullptr;
    long n = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(n));
  }

  key_ptr key_;
  x509_ptr cert_;
};

}  // namespace demo
