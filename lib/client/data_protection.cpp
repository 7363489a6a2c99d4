#include "client/data_protection.hpp"

namespace rsexec {

const char* tls_client_method_name(TlsClientMethod method) noexcept {
    switch (method) {
    case TlsClientMethod::automatic: return "auto";
    case TlsClientMethod::sscn: return "sscn";
    case TlsClientMethod::cpsv: return "cpsv";
    }
    return "?";
}

std::optional<TlsClientMethod> parse_tls_client_method(std::string_view name) {
    for (auto method : {TlsClientMethod::automatic, TlsClientMethod::sscn, TlsClientMethod::cpsv})
        if (name == tls_client_method_name(method)) return method;
    return std::nullopt;
}

Expected<DataProtection> plan_data_protection(const ProtectionInputs& inputs, const PairingAttempt& attempt) {
    DataProtection plan;
    if (!inputs.source_protected && !inputs.destination_protected) return plan;
    if (!inputs.source_protected || !inputs.destination_protected) {
        if (inputs.allow_clear_data) return plan;
        const char* clear = inputs.source_protected ? "dst" : "src";
        return Error(Errc::tls_failed, std::string("the data cannot be protected: ") + clear +
                                           " has no TLS (PROT P) while the other has; --allow-clear-data sends it in clear");
    }
    plan.level = 'P';
    // RFC 438 pairs (rsexecd on both sides): the listener is the TLS server, the connector the client.
    if (attempt.dialect == Dialect::rfc438) return plan;

    const Side connector = attempt.listener == Side::source ? Side::destination : Side::source;
    const auto& listener_features = attempt.listener == Side::source ? *inputs.source : *inputs.destination;
    const auto& connector_features = attempt.listener == Side::source ? *inputs.destination : *inputs.source;
    const bool sscn = inputs.method != TlsClientMethod::cpsv;
    const bool cpsv = inputs.method != TlsClientMethod::sscn;
    // The connector as the TLS client, as it is the TCP client: what RFC 438 pairs do too.
    if (sscn && connector_features.has("SSCN")) {
        plan.sscn = connector;
        return plan;
    }
    if (sscn && listener_features.has("SSCN")) {
        plan.sscn = attempt.listener;
        return plan;
    }
    if (cpsv && listener_features.has("CPSV") && attempt.dialect == Dialect::pasv) {
        plan.cpsv = true;
        return plan;
    }
    if (cpsv && (listener_features.has("CPSV") || connector_features.has("CPSV"))) {
        return Error(Errc::pairing_refused, std::string("TLS on the data connection needs CPSV, which only ") +
                                                side_name(connector_features.has("CPSV") ? connector : attempt.listener) +
                                                " offers, as a PASV listener");
    }
    if (inputs.allow_clear_data) {
        plan.level = 'C';
        return plan;
    }
    const std::string offered = inputs.method == TlsClientMethod::automatic ? "SSCN or CPSV"
                                                                             : inputs.method == TlsClientMethod::sscn ? "SSCN"
                                                                                                                     : "CPSV";
    return Error(Errc::tls_failed, "neither server can take the TLS client role on the data connection (no " + offered +
                                       " in their FEAT); --allow-clear-data sends the data in clear (PROT C)");
}

} // namespace rsexec
