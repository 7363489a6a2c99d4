#pragma once
// Pairing: how two servers are told about each other so that one listens and the other
// connects. Each dialect is a short sequence of commands that mirrors its RFC:
//   rfc438 (RFC 438):   listener LSTN -> 255 X; connector SOCK X -> 255 Y; listener SOCK Y -> 200
//   pasv   (RFC 959 5.2): listener PASV -> 227 X; connector PORT X -> 200
//   epsv   (RFC 2428):  listener EPSV -> 229 port; connector EPRT |f|listener-address|port| -> 200
// With pasv and epsv a listener that speaks LSTN also gets "SOCK <connector's host>,0" right
// after PASV/EPSV (RFC 438 rule 2): only that host may connect (passive_pin below).
// After a pairing, the transfer commands (RETR, STOR/APPE) may be sent.
#include <optional>
#include <string>
#include <vector>

#include <asio/awaitable.hpp>

#include "client/control_session.hpp"

namespace rsexec {

enum class Dialect { rfc438, pasv, epsv };
const char* dialect_name(Dialect dialect) noexcept;
std::optional<Dialect> parse_dialect(std::string_view name);

struct PairingOptions {
    // Forward the address a listener announces even when it is not the address its control
    // connection reached: needed behind some NATs, and the door to the FTP bounce attack.
    bool trust_announced_address = false;
    // Listen with CPSV rather than PASV: the listener is then the TLS client on the data
    // connection (data_protection.hpp).
    bool cpsv = false;
};


// Tells `listener` to listen and `connector` where to connect. `listener_sends` says whether the
// listener will be the sending side (RFC 438's LSTN S) or the receiving one (LSTN R).
asio::awaitable<Status> pair_sessions(Dialect dialect, ControlSession& listener, ControlSession& connector,
                                      bool listener_sends, const PairingOptions& options);

// A pairing's last command: RFC 438's SOCK to the listener, or PORT/EPRT to the connector.
struct PairingStep {
    ControlSession* session;
    ControlSession::Command command;
};
// pair_sessions() up to its last step, which is returned rather than sent: the caller sends it
// in one write with that session's transfer command, a round trip sooner. Only for servers that
// read commands while they wait for a data connection (reads_commands_while_waiting), so that
// when the step is refused, an ABOR still reaches the other server's transfer.
asio::awaitable<Expected<PairingStep>> pair_sessions_but_last(Dialect dialect, ControlSession& listener,
                                                              ControlSession& connector, bool listener_sends,
                                                              const PairingOptions& options);
// The error for a refused pairing command ("src: PORT h1,...: 500 Illegal PORT command."): a
// refusal of the other server's address (ftp/address_refusal.hpp) is Errc::pairing_refused, so
// that it is told from a refusal that may depend on the session's state.
Error pairing_step_refused(const ControlSession& session, std::string_view command, const Reply& reply);

// Whether a server is known to read the next command only once a transfer has ended (and to
// take PORT and the transfer command in one write): rsexecd (it speaks LSTN) and vsftpd (its
// greeting names it).
bool pipelines_behind_transfers(const Features& features, std::string_view greeting);
// rsexecd (it speaks LSTN; docs/PROTOCOL.md) answers ABOR while a transfer waits for its data
// connection. vsftpd, for one, reads no command until its accept() times out.
bool reads_commands_while_waiting(const Features& features);

// The listener's half of a one-step dialect ("PASV", "EPSV"; "LSTN" for rfc438), and the
// connector's half made from the listener's announcement: what a pipelined transfer sends
// itself, one file after another.
const char* listen_verb(Dialect dialect) noexcept;
struct ConnectCommand {
    std::string verb;      // "PORT", "EPRT", "SOCK"
    std::string argument;
};
Expected<ConnectCommand> connect_command(Dialect dialect, const Reply& announcement, const ControlSession& listener,
                                         const PairingOptions& options);
// RFC 438 rule 2 after PASV/EPSV/CPSV (docs/PROTOCOL.md): "SOCK <connector's host>,port 0" tells
// a listener that speaks LSTN to accept the data connection from that host alone, not from any
// host its --fxp-peers lists. Its argument needs no reply, so it goes out in the same write as
// the PASV/EPSV: no round trip more. Nothing for a listener without LSTN, or for rfc438 (whose
// own SOCK pins the connector's port too).
std::optional<ControlSession::Command> passive_pin(Dialect dialect, const ControlSession& listener,
                                                   const ControlSession& connector);
// "SOCK <connector's host>,0": the pin itself, also what a block-mode LSTN is pinned with.
ControlSession::Command host_pin(const ControlSession& connector);

// One way to try: a dialect and which side listens.
struct PairingAttempt {
    Dialect dialect;
    Side listener;
};

// What `auto` tries, in order, given both servers' FEAT: RFC 438 when both speak LSTN, else
// EPSV/EPRT where both support RFC 2428, else PASV/PORT; each first with `preferred_listener`
// listening, then with the roles swapped. `forced` restricts the list to one dialect.
std::vector<PairingAttempt> pairing_plan(const Features& source, const Features& destination,
                                         Side preferred_listener, std::optional<Dialect> forced,
                                         bool ipv6);

struct DataProtection;
// plan_data_protection() for these two sessions as they are.
Expected<DataProtection> plan_data_protection(const ControlSession& source, const ControlSession& destination,
                                             const PairingAttempt& attempt);
// Sends PROT and SSCN to the servers whose state differs from `plan`.
asio::awaitable<Status> apply_data_protection(ControlSession& source, ControlSession& destination,
                                              const DataProtection& plan);

} // namespace rsexec
