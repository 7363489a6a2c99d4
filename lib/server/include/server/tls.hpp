#pragma once
// FTP over TLS (RFC 4217) in rsexecd: the server's TLS settings, the two OpenSSL contexts built
// from them, and the rule deciding which end of a data connection plays the TLS server.
//
// RFC 4217 assumes a client and a server: the FTP server is the TLS server on every connection.
// In a server-to-server transfer both ends of the data connection are FTP servers, and one of
// them must play the TLS client. Who does is chosen by the controlling client:
//   SSCN ON   - this session's server is the TLS client on its data connections (SSCN OFF: server);
//   CPSV      - PASV for which this server is the TLS client on the accepted connection;
//   RFC 438   - after LSTN the listener is the TLS server and the connector (SOCK without LSTN)
//               the TLS client, unless SSCN was set explicitly.
// As TLS client rsexecd does not verify the peer's certificate: the peer is already fixed by
// address (the data-peer policy, the SOCK pin) and FXP servers mostly have self-signed ones.
#include <filesystem>
#include <memory>
#include <string_view>

#include <asio/ssl/context.hpp>

#include "ftp/expected.hpp"

namespace rsexec::server {

// --tls: off without a certificate; optional (AUTH TLS offered) or required (nothing but AUTH,
// FEAT, QUIT, NOOP, SYST, HELP and OPTS on a clear control connection, and only PROT P data).
enum class TlsMode { off, optional, required };

struct TlsSettings {
    TlsMode mode = TlsMode::off;
    std::filesystem::path certificate; // PEM, the chain: leaf first
    std::filesystem::path key;         // PEM
    bool implicit = false;             // TLS from the first byte of the control connection
};

enum class TlsRole { server, client };

// SSCN (draft "SSCN", as in glFTPd, FileZilla Server, Serv-U): unset until the client says.
enum class Sscn { unset, on, off };

// How the current data connection was set up.
enum class Pairing {
    ordinary,       // PASV, EPSV, PORT, EPRT, or LSTN (then SOCK pins)
    rfc438_connect, // SOCK without LSTN
    cpsv,           // CPSV
};

// Which TLS role this server plays on a data connection (the table in docs/PROTOCOL.md).
TlsRole data_tls_role(Sscn sscn, Pairing pairing);

std::string_view role_name(TlsRole role);

// The contexts of one server: its certificate for the TLS server role, and a non-verifying
// client context for the TLS client role on data connections. TLS 1.2 or later, no session
// tickets or cache (no session reuse between control and data connections is required).
class TlsContexts {
public:
    // Reads and checks the certificate and key; the error names the file and what is wrong.
    static Expected<std::unique_ptr<TlsContexts>> load(const TlsSettings& settings);

    asio::ssl::context& server() { return server_; }
    asio::ssl::context& client() { return client_; }
    asio::ssl::context& for_role(TlsRole role) { return role == TlsRole::server ? server_ : client_; }

private:
    TlsContexts();

    asio::ssl::context server_;
    asio::ssl::context client_;
};

} // namespace rsexec::server
