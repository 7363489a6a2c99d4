#include "client/tls.hpp"

namespace rsexec {

const char* tls_mode_name(TlsMode mode) noexcept {
    switch (mode) {
    case TlsMode::off: return "off";
    case TlsMode::optional: return "optional";
    case TlsMode::required: return "required";
    }
    return "?";
}

std::optional<TlsMode> parse_tls_mode(std::string_view name) {
    for (auto mode : {TlsMode::off, TlsMode::optional, TlsMode::required})
        if (name == tls_mode_name(mode)) return mode;
    return std::nullopt;
}

Expected<std::shared_ptr<asio::ssl::context>> make_tls_context(const std::string& ca_file, bool insecure) {
    auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
    std::error_code ec;
    context->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                             asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                             asio::ssl::context::no_tlsv1_1,
                         ec);
    if (ec) return Error(Errc::tls_failed, "cannot set up TLS: " + ec.message());
    if (insecure) {
        context->set_verify_mode(asio::ssl::verify_none);
        return context;
    }
    context->set_verify_mode(asio::ssl::verify_peer);
    if (ca_file.empty()) context->set_default_verify_paths(ec);
    else context->load_verify_file(ca_file, ec);
    if (ec) {
        return Error(Errc::tls_failed, (ca_file.empty() ? std::string("cannot load the system's CA certificates")
                                                        : "cannot load CA file " + ca_file) +
                                           ": " + ec.message());
    }
    return context;
}

} // namespace rsexec
