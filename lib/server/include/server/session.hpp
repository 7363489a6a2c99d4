#pragma once
// One control connection: login state, current directory, transfer parameters, and the
// command loop. The loop keeps reading while a transfer runs as its own coroutine, so ABOR,
// STAT and NOOP are answered at once (RFC 959 4.1.3); other commands wait for the transfer.
// Replies go through one outbox with a single writer, so the command loop and the transfer
// never interleave bytes on the control connection.
// With TLS (RFC 4217) the control connection becomes a TLS stream after AUTH TLS (or from the
// first byte with --implicit-tls), and data connections after PROT P (tls.hpp: who is the TLS
// client on them).
#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <tuple>

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ssl/stream.hpp>
#include <asio/steady_timer.hpp>
#include <asio/thread_pool.hpp>

#include "server/checksum.hpp"
#include "server/command_line.hpp"
#include "server/commands.hpp"
#include "server/config.hpp"
#include "server/data_channel.hpp"
#include "server/data_socket.hpp"
#include "server/jail.hpp"
#include "server/log.hpp"
#include "server/login_throttle.hpp"
#include "server/tls.hpp"
#include "server/transfer.hpp"

namespace rsexec::server {

// What every session shares, owned by the Server.
struct ServerContext {
    const ServerConfig& config;
    const Jail& jail;
    Logger& log;
    HashPool& hashes;           // checksums, off the I/O thread
    LoginThrottle& throttle;    // failed logins across sessions
    TlsContexts* tls;           // nullptr when TLS is off
    asio::thread_pool& logins;  // password checks (crypt(3) takes milliseconds), off the I/O thread
};

class Session : public std::enable_shared_from_this<Session> {
public:
    Session(asio::ip::tcp::socket control, ServerContext context, std::uint64_t id);

    // The command loop; returns when the client quits or the connection ends.
    asio::awaitable<void> run();
    // Server shutdown: close the control and data connections.
    void stop();

private:
    friend const CommandSpec* find_command(std::string_view verb);

    enum class Access { read_only, read_write };

    // A transfer command running on its own coroutine.
    struct Transfer {
        std::string verb;
        std::string path; // virtual
        Progress progress;
        bool aborted = false;
        std::optional<TlsRole> tls; // PROT P: this server's role on the data connection
        std::optional<DataSocket> socket;
        std::string unread; // block mode: bytes read past the EOF block (transfer.hpp)
    };

    // Control connection.
    asio::awaitable<std::optional<CommandLine>> read_line();
    asio::awaitable<void> dispatch(std::string line);
    void reply(int code, std::string_view text);
    // RFC 959 4.2: "code-first", lines each starting with a space, "code last".
    void reply_lines(int code, std::string_view first, const std::vector<std::string>& lines, std::string_view last);
    void send(std::string bytes);
    asio::awaitable<void> write_outbox(std::shared_ptr<Session> self);
    // Until every queued reply has been written (AUTH TLS: the 234 goes out in the clear).
    asio::awaitable<void> flush_outbox();
    void close_control();
    // The control connection, clear or TLS.
    asio::awaitable<std::tuple<std::error_code, std::size_t>> read_control(asio::mutable_buffer buffer);
    asio::awaitable<std::tuple<std::error_code, std::size_t>> write_control(asio::const_buffer buffer);
    // The TLS handshake on the control connection (AUTH TLS, --implicit-tls); false and the
    // session closing when it fails.
    asio::awaitable<bool> secure_control(std::string_view why);
    bool tls_enabled() const noexcept { return context_.tls != nullptr; }
    bool tls_required() const noexcept { return context_.config.tls.mode == TlsMode::required; }

    // The login timeout and the line timeout (--login-timeout, --line-timeout): how long the next
    // read may take before the session is closed, and why.
    std::pair<Clock::duration, std::string_view> read_limit() const;

    // Transfers.
    bool data_ready();
    void start_transfer(std::string verb, std::string path, TransferPlan plan);
    asio::awaitable<void> run_transfer(std::shared_ptr<Session> self, std::shared_ptr<Transfer> transfer,
                                       TransferPlan plan);
    void finish_transfer(const std::shared_ptr<Transfer>& transfer);
    void abort_transfer();
    asio::awaitable<void> wait_for_transfer();
    // Block mode (RFC 959 3.4.2): the data connection of the last transfer, kept for the next.
    void close_kept_data(std::string_view why);
    bool kept_data_alive();
    // RETR, STOR, APPE, LIST, NLST, MLSD: in block mode, a command refused before its transfer
    // starts also closes the data connection, kept or configured, so that a pipelined peer never
    // takes the next file's blocks for this one's.
    asio::awaitable<void> transfer_command(asio::awaitable<void> prepare);

    // Helpers of the handlers (commands.cpp).
    // The virtual path of an argument (jail.hpp); 550 and nullopt when it climbs above "/".
    std::optional<std::string> target_path(std::string_view argument);
    // The jail's descriptors for a virtual path; on failure `code` and `text` are replied (a
    // symlink leaving the root: 550 and a warning in the log) and nullopt returned.
    std::optional<FileDescriptor> open_target(const std::string& path, int flags, int code, std::string_view text);
    std::optional<JailEntry> parent_of(const std::string& path, int code, std::string_view text);
    void reply_jail_error(const std::string& path, const Error& error, int code, std::string_view text);
    // STOR, APPE, MKD, RNTO: a new name holding a control character is refused with 553 (a CR LF
    // in it would forge replies and listing lines, RFC 959 has no escaping).
    bool refuse_new_name(const std::string& path);
    bool require_write();
    // PORT, EPRT and SOCK name where this server is to connect; one policy for all three
    // (RFC 2577 bounce defence). Replies 504 and returns true when the target is refused.
    bool refuse_data_target(std::string_view verb, const Endpoint& target);
    asio::awaitable<void> retr(std::string argument);
    asio::awaitable<void> list(std::string argument, std::string verb);
    asio::awaitable<void> store(std::string argument, std::string verb);
    // HASH and XSHA256: the SHA-256 of the plain file `argument` names, computed on the hashing
    // pool while the command loop goes on reading (ABOR cancels it); the reply comes when it ends.
    asio::awaitable<void> start_hash(std::string verb, std::string argument);
    asio::awaitable<void> run_hash(std::shared_ptr<Session> self, std::string verb, std::string argument,
                                   FileDescriptor file, std::uint64_t size);
    void cancel_hash(std::string_view why);
    // A failed-login throttle turn for this PASS (login_throttle.hpp): false, with 421 sent, when refused.
    asio::awaitable<bool> wait_for_login_turn(const std::string& address);
    std::string status_lines_of_transfer() const;

    // Command handlers (commands.cpp), one per verb.
    asio::awaitable<void> on_user(std::string argument);
    asio::awaitable<void> on_pass(std::string argument);
    asio::awaitable<void> on_quit(std::string argument);
    asio::awaitable<void> on_noop(std::string argument);
    asio::awaitable<void> on_syst(std::string argument);
    asio::awaitable<void> on_feat(std::string argument);
    asio::awaitable<void> on_opts(std::string argument);
    asio::awaitable<void> on_help(std::string argument);
    asio::awaitable<void> on_type(std::string argument);
    asio::awaitable<void> on_mode(std::string argument);
    asio::awaitable<void> on_stru(std::string argument);
    asio::awaitable<void> on_allo(std::string argument);
    asio::awaitable<void> on_pwd(std::string argument);
    asio::awaitable<void> on_cwd(std::string argument);
    asio::awaitable<void> on_cdup(std::string argument);
    asio::awaitable<void> on_pasv(std::string argument);
    asio::awaitable<void> on_epsv(std::string argument);
    asio::awaitable<void> on_port(std::string argument);
    asio::awaitable<void> on_eprt(std::string argument);
    asio::awaitable<void> on_lstn(std::string argument);
    asio::awaitable<void> on_sock(std::string argument);
    asio::awaitable<void> on_retr(std::string argument);
    asio::awaitable<void> on_stor(std::string argument);
    asio::awaitable<void> on_appe(std::string argument);
    asio::awaitable<void> on_rest(std::string argument);
    asio::awaitable<void> on_size(std::string argument);
    asio::awaitable<void> on_mdtm(std::string argument);
    asio::awaitable<void> on_mfmt(std::string argument);
    asio::awaitable<void> on_list(std::string argument);
    asio::awaitable<void> on_nlst(std::string argument);
    asio::awaitable<void> on_mlsd(std::string argument);
    asio::awaitable<void> on_mlst(std::string argument);
    asio::awaitable<void> on_dele(std::string argument);
    asio::awaitable<void> on_mkd(std::string argument);
    asio::awaitable<void> on_rmd(std::string argument);
    asio::awaitable<void> on_rnfr(std::string argument);
    asio::awaitable<void> on_rnto(std::string argument);
    asio::awaitable<void> on_abor(std::string argument);
    asio::awaitable<void> on_stat(std::string argument);
    asio::awaitable<void> on_hash(std::string argument);
    asio::awaitable<void> on_xsha256(std::string argument);
    asio::awaitable<void> on_auth(std::string argument);
    asio::awaitable<void> on_pbsz(std::string argument);
    asio::awaitable<void> on_prot(std::string argument);
    asio::awaitable<void> on_sscn(std::string argument);
    asio::awaitable<void> on_cpsv(std::string argument);

    asio::ip::tcp::socket control_;
    std::unique_ptr<asio::ssl::stream<asio::ip::tcp::socket&>> control_tls_; // after AUTH TLS
    ServerContext context_;
    std::uint64_t id_;
    Endpoint peer_;
    Endpoint local_;
    std::string tag_; // "#id addr:port", at the start of every log line
    CommandFramer framer_;
    std::array<char, 4096> chunk_{};

    // Outbox of replies (single writer).
    std::deque<std::string> outbox_;
    std::size_t outbox_bytes_ = 0;
    bool writing_ = false;
    asio::steady_timer outbox_flushed_; // cancelled when the writer stops: wakes flush_outbox
    bool close_when_sent_ = false;
    bool closed_ = false;

    // RFC 959 login.
    std::optional<std::string> pending_user_;
    std::optional<Access> access_;
    std::string user_;
    unsigned failed_logins_ = 0;
    asio::steady_timer login_delay_;
    Clock::time_point login_started_;             // connect or AUTH: --login-timeout runs from here
    std::optional<Clock::time_point> line_started_; // first byte of a line not yet complete

    // Transfer parameters.
    std::string cwd_ = "/";
    bool binary_ = true;
    bool block_mode_ = false;                     // MODE B (RFC 959 3.4.2)
    std::uint64_t restart_offset_ = 0;            // REST (RFC 3659 5)
    std::optional<JailEntry> rename_from_;        // RNFR: the entry to rename
    bool listening_for_sock_ = false;            // LSTN given; SOCK will pin
    bool epsv_all_ = false;                      // EPSV ALL: EPSV alone sets up data connections
    DataChannel data_;
    std::optional<DataSocket> kept_data_;             // block mode, between transfers
    std::string kept_unread_;                     // bytes read from it past the last EOF block
    std::shared_ptr<Transfer> transfer_;
    // A HASH or XSHA256 on the hashing pool; like a transfer, other commands wait for it.
    struct Hashing {
        std::string path; // virtual
        std::shared_ptr<std::atomic<bool>> cancelled;
        std::string why; // what cancelled it
    };
    std::optional<Hashing> hashing_;

    // RFC 4217 data protection and the data connection's TLS role (tls.hpp).
    bool pbsz_ = false;         // PBSZ 0 given after AUTH
    bool protect_data_ = false; // PROT P
    Sscn sscn_ = Sscn::unset;
    Pairing pairing_ = Pairing::ordinary;
    std::uint64_t transfers_started_ = 0;
    asio::steady_timer transfer_done_; // cancelled when a transfer ends: wakes waiters
};

} // namespace rsexec::server
