#include "server/tls.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>

#include <openssl/err.h>
#include <openssl/ssl.h>

namespace rsexec::server {
namespace {

constexpr auto common_options = asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                                asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                                asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use;

Error settings_error(std::string message) { return Error(Errc::tls_failed, std::move(message)); }

// A readable-file check first: "cannot open" says more than OpenSSL's "system lib".
std::optional<Error> unreadable(const char* option, const std::filesystem::path& path) {
    std::ifstream in(path);
    if (in) return std::nullopt;
    return settings_error(std::string(option) + " " + path.string() + ": cannot open: " + std::strerror(errno));
}

std::string reason(const std::error_code& ec) {
    std::string text = ec.message();
    if (text.empty()) text = "invalid";
    return text;
}

} // namespace

TlsRole data_tls_role(Sscn sscn, Pairing pairing) {
    if (pairing == Pairing::cpsv) return TlsRole::client;
    if (sscn == Sscn::on) return TlsRole::client;
    if (sscn == Sscn::off) return TlsRole::server;
    return pairing == Pairing::rfc438_connect ? TlsRole::client : TlsRole::server;
}

std::string_view role_name(TlsRole role) { return role == TlsRole::server ? "server" : "client"; }

TlsContexts::TlsContexts()
    : server_(asio::ssl::context::tls_server), client_(asio::ssl::context::tls_client) {}

Expected<std::unique_ptr<TlsContexts>> TlsContexts::load(const TlsSettings& settings) {
    if (settings.certificate.empty() || settings.key.empty())
        return settings_error("TLS needs both --tls-cert and --tls-key");
    if (auto error = unreadable("--tls-cert", settings.certificate)) return *error;
    if (auto error = unreadable("--tls-key", settings.key)) return *error;
    std::unique_ptr<TlsContexts> contexts(new TlsContexts());
    auto& server = contexts->server_;
    std::error_code ec;
    server.set_options(common_options, ec);
    server.use_certificate_chain_file(settings.certificate.string(), ec);
    if (ec)
        return settings_error("--tls-cert " + settings.certificate.string() +
                              ": not a PEM certificate chain: " + reason(ec));
    server.use_private_key_file(settings.key.string(), asio::ssl::context::pem, ec);
    if (ec)
        return settings_error("--tls-key " + settings.key.string() +
                              ": not a PEM private key matching --tls-cert: " + reason(ec));
    if (SSL_CTX_check_private_key(server.native_handle()) != 1) {
        ERR_clear_error();
        return settings_error("--tls-key " + settings.key.string() + " does not belong to the certificate in " +
                              settings.certificate.string());
    }
    // No session reuse: no tickets (TLS 1.3 would send them after every handshake), no cache.
    SSL_CTX_set_num_tickets(server.native_handle(), 0);
    SSL_CTX_set_session_cache_mode(server.native_handle(), SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(server.native_handle(), SSL_OP_NO_TICKET);

    auto& client = contexts->client_;
    client.set_options(common_options, ec);
    // The peer server is pinned by address; its certificate is not checked (tls.hpp).
    client.set_verify_mode(asio::ssl::verify_none, ec);
    SSL_CTX_set_session_cache_mode(client.native_handle(), SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(client.native_handle(), SSL_OP_NO_TICKET);
    return contexts;
}

} // namespace rsexec::server
