#pragma once
// FTPS on the client side (RFC 4217): how a control connection is secured, and the TLS context
// servers are verified with. ftps:// URLs speak TLS from the first byte (implicit, port 990);
// ftp:// URLs ask for it with AUTH TLS as `--tls` says. Once secured, PBSZ 0 and PROT P ask for
// TLS on data connections too (data_protection.hpp says who takes which role between servers).
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <asio/ssl/context.hpp>

#include "ftp/expected.hpp"

namespace rsexec {

enum class TlsMode {
    off,       // never AUTH TLS (ftp:// only)
    optional,  // AUTH TLS, and carry on in clear when the server refuses it
    required,  // AUTH TLS, and fail (exit 13) when the server refuses it
};
const char* tls_mode_name(TlsMode mode) noexcept;
std::optional<TlsMode> parse_tls_mode(std::string_view name);

struct TlsSettings {
    TlsMode mode = TlsMode::off;                   // for ftp:// URLs
    std::shared_ptr<asio::ssl::context> context;  // from make_tls_context; none: TLS unavailable
    bool verify = true;                           // check the certificate names the host
    // Send data in clear (PROT C) when the servers cannot protect it between them.
    bool allow_clear_data = false;
    std::string tls_client_method = "auto";  // data_protection.hpp: auto, sscn or cpsv
};

// TLS 1.2 or later, verifying servers against the system's CA store, or only against `ca_file`
// when one is given; verifying nothing when `insecure`.
Expected<std::shared_ptr<asio::ssl::context>> make_tls_context(const std::string& ca_file, bool insecure);

} // namespace rsexec
