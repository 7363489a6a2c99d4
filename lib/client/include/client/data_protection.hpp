#pragma once
// TLS on the data connection between two servers (RFC 4217 with the FXP extensions). Both ends
// of that connection are servers, and RFC 4217 makes every server the TLS server of its data
// connections, so one of them must be told to be the TLS client:
//   SSCN ON  - this server is the TLS client on its data connections, whichever side connects;
//   CPSV     - PASV, with this server the TLS client on the connection it accepts;
//   RFC 438  - rsexecd's LSTN/SOCK: the listener is the TLS server, the connector the client.
// plan_data_protection() decides from FEAT which to use for one pairing attempt; it is pure.
#include <optional>
#include <string>
#include <string_view>

#include "ftp/error.hpp"
#include "ftp/expected.hpp"
#include "ftp/features.hpp"
#include "client/pairing.hpp"

namespace rsexec {

struct DataProtection {
    char level = 'C';                 // PROT on both servers: 'P' (TLS) or 'C' (clear)
    std::optional<Side> sscn;         // the server to send SSCN ON (the other gets SSCN OFF)
    bool cpsv = false;                // the listener listens with CPSV instead of PASV
};

// How a server is made the TLS client: whichever the servers offer (SSCN first), or only one.
enum class TlsClientMethod { automatic, sscn, cpsv };
const char* tls_client_method_name(TlsClientMethod method) noexcept;
std::optional<TlsClientMethod> parse_tls_client_method(std::string_view name);

struct ProtectionInputs {
    bool source_protected = false;       // the session is under TLS and accepted PROT P
    bool destination_protected = false;
    const Features* source = nullptr;
    const Features* destination = nullptr;
    bool allow_clear_data = false;
    TlsClientMethod method = TlsClientMethod::automatic;
};

// For one pairing attempt. An error with Errc::pairing_refused means only this attempt cannot
// be protected (CPSV offered by the side that would connect); Errc::tls_failed means none can.
Expected<DataProtection> plan_data_protection(const ProtectionInputs& inputs, const PairingAttempt& attempt);

} // namespace rsexec
