#include "client/tls.hpp"

#include <mutex>

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

namespace rsexec {
namespace {

// A client context whose system CA store is read at its first certificate check rather than
// when rsexec starts: parsing the ~150 certificates of the system bundle costs tens of
// milliseconds of CPU, which a run that never speaks TLS (most) need not spend.
struct LazyCaContext {
    asio::ssl::context context{asio::ssl::context::tls_client};
    std::once_flag loaded;
};

int verify_with_system_store(X509_STORE_CTX* check, void* argument) {
    auto* lazy = static_cast<LazyCaContext*>(argument);
    // X509_STORE_set_default_paths fails only when it cannot allocate; a missing bundle simply
    // leaves the store empty, and the check below then fails as it would have.
    std::call_once(lazy->loaded, [&] { (void)X509_STORE_set_default_paths(SSL_CTX_get_cert_store(lazy->context.native_handle())); });
    return X509_verify_cert(check);
}

} // namespace

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
    auto lazy = std::make_shared<LazyCaContext>();
    std::shared_ptr<asio::ssl::context> context(lazy, &lazy->context);
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
    if (ca_file.empty()) SSL_CTX_set_cert_verify_callback(context->native_handle(), verify_with_system_store, lazy.get());
    else context->load_verify_file(ca_file, ec);
    if (ec) {
        return Error(Errc::tls_failed, (ca_file.empty() ? std::string("cannot load the system's CA certificates")
                                                        : "cannot load CA file " + ca_file) +
                                           ": " + ec.message());
    }
    return context;
}

} // namespace rsexec
