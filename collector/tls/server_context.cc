#include "collector/tls/server_context.h"

#include <sys/stat.h>

#include <string_view>
#include <utility>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "spdlog/spdlog.h"

namespace outrigger::tls {
namespace {

namespace ssl = boost::asio::ssl;

int OpenSslVersion(const std::string& name) {
  switch (VersionNumber(name)) {
    case 10:
      return TLS1_VERSION;
    case 11:
      return TLS1_1_VERSION;
    case 12:
      return TLS1_2_VERSION;
    case 13:
      return TLS1_3_VERSION;
    default:
      return 0;
  }
}

// The last OpenSSL error as text (and clears the queue).
std::string OpenSslError() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown error" : out;
}

// IANA cipher suite names (as upstream, e.g. TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256) as
// OpenSSL's cipher list (TLS 1.2 and older) and TLS 1.3 suite list.
absl::Status SetCipherSuites(SSL_CTX* ctx, const std::vector<std::string>& names) {
  std::vector<std::string> tls12, tls13;
  STACK_OF(SSL_CIPHER)* all = SSL_CTX_get_ciphers(ctx);
  for (const auto& name : names) {
    bool found = false;
    for (int i = 0; all != nullptr && i < sk_SSL_CIPHER_num(all); ++i) {
      const SSL_CIPHER* c = sk_SSL_CIPHER_value(all, i);
      const char* std_name = SSL_CIPHER_standard_name(c);
      if (std_name == nullptr || name != std_name) continue;
      if (std::string_view(SSL_CIPHER_get_version(c)) == "TLSv1.3") {
        tls13.push_back(name);
      } else {
        tls12.push_back(SSL_CIPHER_get_name(c));
      }
      found = true;
      break;
    }
    if (!found) {
      return absl::InvalidArgumentError(
          absl::StrCat("cipher_suites: \"", name,
                       "\" is not a cipher suite this OpenSSL knows (use IANA names such as "
                       "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)"));
    }
  }
  if (!tls12.empty() && SSL_CTX_set_cipher_list(ctx, absl::StrJoin(tls12, ":").c_str()) != 1) {
    return absl::InvalidArgumentError(absl::StrCat("cipher_suites: ", OpenSslError()));
  }
  if (!tls13.empty() && SSL_CTX_set_ciphersuites(ctx, absl::StrJoin(tls13, ":").c_str()) != 1) {
    return absl::InvalidArgumentError(absl::StrCat("cipher_suites: ", OpenSslError()));
  }
  return absl::OkStatus();
}

}  // namespace

ServerContext::ServerContext(const ServerConfig& cfg, std::shared_ptr<spdlog::logger> logger)
    : cfg_(cfg), logger_(logger ? std::move(logger) : spdlog::default_logger()) {}

absl::StatusOr<std::shared_ptr<ServerContext>> ServerContext::Create(const ServerConfig& cfg,
                                                                     std::shared_ptr<spdlog::logger> logger) {
  if (auto s = cfg.Validate("tls"); !s.ok()) return s;
  std::shared_ptr<ServerContext> sc(new ServerContext(cfg, std::move(logger)));
  auto stamps = sc->Stamps();
  auto ctx = sc->Build();
  if (!ctx.ok()) return ctx.status();
  std::lock_guard<std::mutex> l(sc->mu_);
  sc->ctx_ = std::move(*ctx);
  sc->stamps_ = std::move(stamps);
  sc->next_check_ = std::chrono::steady_clock::now() + absl::ToChronoNanoseconds(sc->CheckEvery());
  return sc;
}

absl::Duration ServerContext::CheckEvery() const {
  return cfg_.reload_interval > absl::ZeroDuration() ? cfg_.reload_interval : kDefaultReloadCheck;
}

std::vector<ServerContext::FileStamp> ServerContext::Stamps() const {
  std::vector<FileStamp> out;
  for (const std::string* p : {&cfg_.cert_file, &cfg_.key_file, &cfg_.ca_file, &cfg_.client_ca_file}) {
    if (p->empty()) continue;
    FileStamp s;
    s.path = *p;
    struct stat st;
    if (::stat(p->c_str(), &st) == 0) {
      s.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
      s.size = static_cast<int64_t>(st.st_size);
      s.inode = static_cast<uint64_t>(st.st_ino);
    }
    out.push_back(std::move(s));
  }
  return out;
}

absl::StatusOr<std::shared_ptr<ssl::context>> ServerContext::Build() const {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* h = ctx->native_handle();
  ERR_clear_error();
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_compression | ssl::context::single_dh_use);
  // No session tickets or cache: each handshake checks the current certificates.
  SSL_CTX_set_session_cache_mode(h, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_options(h, SSL_OP_NO_TICKET);
  if (SSL_CTX_set_min_proto_version(h, OpenSslVersion(cfg_.min_version)) != 1) {
    return absl::InvalidArgumentError(absl::StrCat("tls.min_version ", cfg_.min_version, ": ", OpenSslError()));
  }
  if (!cfg_.max_version.empty() && SSL_CTX_set_max_proto_version(h, OpenSslVersion(cfg_.max_version)) != 1) {
    return absl::InvalidArgumentError(absl::StrCat("tls.max_version ", cfg_.max_version, ": ", OpenSslError()));
  }
  if (VersionNumber(cfg_.min_version) < 12) {
    // OpenSSL 3's default security level refuses TLS 1.0/1.1 (SHA-1 signatures); a
    // configured old min_version means the operator wants them.
    SSL_CTX_set_security_level(h, 0);
  }
  if (!cfg_.cipher_suites.empty()) {
    if (auto s = SetCipherSuites(h, cfg_.cipher_suites); !s.ok()) return s;
  }
  if (SSL_CTX_use_certificate_chain_file(h, cfg_.cert_file.c_str()) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("tls.cert_file ", cfg_.cert_file, ": cannot load a PEM certificate: ", OpenSslError()));
  }
  if (SSL_CTX_use_PrivateKey_file(h, cfg_.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("tls.key_file ", cfg_.key_file, ": cannot load a PEM private key: ", OpenSslError()));
  }
  if (SSL_CTX_check_private_key(h) != 1) {
    return absl::InvalidArgumentError(absl::StrCat("tls.key_file ", cfg_.key_file,
                                                   " does not match the certificate of tls.cert_file ", cfg_.cert_file,
                                                   ": ", OpenSslError()));
  }
  const std::string& ca = cfg_.client_ca_file.empty() ? cfg_.ca_file : cfg_.client_ca_file;
  if (!ca.empty()) {
    const char* key = cfg_.client_ca_file.empty() ? "tls.ca_file " : "tls.client_ca_file ";
    if (SSL_CTX_load_verify_locations(h, ca.c_str(), nullptr) != 1) {
      return absl::InvalidArgumentError(absl::StrCat(key, ca, ": cannot load PEM CA certificates: ", OpenSslError()));
    }
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(ca.c_str());
    if (names != nullptr) SSL_CTX_set_client_CA_list(h, names);
    // client_ca_file: a certificate is required; ca_file alone: verified if sent.
    SSL_CTX_set_verify(h, cfg_.mutual() ? SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT : SSL_VERIFY_PEER, nullptr);
  }
  return ctx;
}

std::shared_ptr<ssl::context> ServerContext::Current() {
  std::lock_guard<std::mutex> l(mu_);
  auto now = std::chrono::steady_clock::now();
  if (now < next_check_) return ctx_;
  next_check_ = now + absl::ToChronoNanoseconds(CheckEvery());
  auto stamps = Stamps();
  if (stamps == stamps_) return ctx_;
  stamps_ = stamps;  // a broken set is tried once, then again only when it changes
  auto ctx = Build();
  if (!ctx.ok()) {
    ++failures_;
    logger_->error("TLS certificate files changed but cannot be loaded; still serving the previous ones: {}",
                   ctx.status().message());
    return ctx_;
  }
  ++reloads_;
  ctx_ = std::move(*ctx);
  logger_->info("TLS certificate files changed: new connections use the new certificates ({})", cfg_.cert_file);
  return ctx_;
}

int ServerContext::reloads() const {
  std::lock_guard<std::mutex> l(mu_);
  return reloads_;
}

int ServerContext::reload_failures() const {
  std::lock_guard<std::mutex> l(mu_);
  return failures_;
}

}  // namespace outrigger::tls
