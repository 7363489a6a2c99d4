// Items with one end on this machine's disk (file:///abs/path or /abs/path): one session, to the
// server's side, reused by the next item that names the same login; the disk takes no
// connection slot. The copy itself is rsexec copy's (client/local_file.hpp).
#include "batch_state.hpp"
#include "client/local_facts.hpp"
#include "client/local_file.hpp"
#include "client/relay.hpp"

namespace rsexec {

bool is_local_item(const JobItem& item) { return item.source.is_local() || item.destination.is_local(); }

// The session to the server's side of a local item. Before waiting for a connection slot, the
// worker gives back its other, idle session: two workers each holding one server while waiting
// for the other's would wait for ever under --max-per-host.
asio::awaitable<Status> BatchRun::State::ensure_server(Site& site, Site& other, Side side, const FtpUrl& url,
                                                       unsigned worker) {
    const auto login = login_of(url, credentials_for(url, options.netrc));
    if (site.session && site.session->is_open() && site.login == login) co_return success();
    if (other.session && other.session->is_open()) co_await other.session->command("QUIT");
    drop(other);
    co_await reserve(site, url);
    co_return co_await open(site, side, url, worker);
}

// An item an earlier run or a lost worker started may have been copied and renamed before its
// outcome reached the journal: a final file the size of the source is that copy.
asio::awaitable<std::optional<CopyResult>> BatchRun::State::found_complete_local(ControlSession& server,
                                                                                const JobItem& item) {
    const bool upload = item.source.is_local();
    const FtpUrl& to = item.destination;
    const FtpUrl& from = item.source;
    const std::string final_path = to.names_directory() ? to.path + from.file_name() : to.path;
    std::optional<std::uint64_t> copied, original;
    if (upload) {
        if (auto here = local_entry(from.path); here && here->regular) original = here->facts.size;
        if (auto there = co_await size_of(server, final_path); there && *there) copied = **there;
    } else {
        if (auto here = local_entry(final_path); here && here->regular) copied = here->facts.size;
        if (auto there = co_await size_of(server, from.path); there && *there) original = **there;
    }
    if (!copied || !original || *copied == 0 || *copied != *original) co_return std::nullopt;
    CopyResult result;
    result.bytes = *copied;
    result.found_complete = true;
    co_return result;
}

asio::awaitable<Expected<CopyResult>> BatchRun::State::attempt_local(Site& src, Site& dst, std::size_t index,
                                                                     unsigned worker, int attempt) {
    const JobItem& item = item_at(index);
    if (item.source.is_local() && item.destination.is_local())
        co_return Error(Errc::bad_url, "both sides are local files: rsexec copies to or from an FTP server");
    const bool upload = item.source.is_local();
    Site& server = upload ? dst : src;
    const FtpUrl& url = upload ? item.destination : item.source;
    if (auto opened = co_await ensure_server(server, upload ? src : dst, upload ? Side::destination : Side::source, url,
                                             worker);
        !opened)
        co_return opened.error();
    if (aborting) co_return Error(Errc::interrupted, "aborted while its control session was opening");
    if (attempt == 1 && entries.at(index).earlier_claims > 0 && !item.append) {
        if (auto found = co_await found_complete_local(*server.session, item)) co_return *found;
    }
    UrlCopyOptions copy;
    copy.copy = options.copy;
    copy.mode = item.append ? WriteMode::append : WriteMode::temporary_then_rename;
    copy.session = options.session;
    copy.netrc = options.netrc;
    copy.copy.overwrite = overwrite_for(index);
    // As for an item between servers: what an earlier run or a lost worker left is continued.
    copy.copy.resume = copy.copy.resume || entries.at(index).earlier_claims > 0;
    // An abort ends the transfer at once: ABOR, the temporary file handled as a signal's.
    if (!copy.copy.interruption) copy.copy.interruption = &abort_signal;
    copy.copy.progress = [this, index, meter = std::make_shared<std::optional<ProgressMeter>>()](std::uint64_t bytes) {
        const auto now = Clock::now();
        if (!*meter) meter->emplace(std::nullopt, 0, now);
        (*meter)->record(bytes, now);
        auto progress = event(BatchEvent::Kind::progress, index);
        progress.bytes = bytes;
        progress.progress = (*meter)->at(now);
        emit(std::move(progress));
    };
    co_return co_await copy_local_on(*server.session, item.source, item.destination, copy);
}

// Whether a failed item between servers was being copied through rsexec: --relay always (the
// command's or its line's), or auto between servers that refused every pairing in this run.
bool BatchRun::State::relays_through_here(const Site& src, const Site& dst, const JobItem& item) const {
    const RelayMode mode = item.relay ? parse_relay_mode(*item.relay).value_or(options.copy.relay) : options.copy.relay;
    if (mode == RelayMode::always) return true;
    return mode == RelayMode::automatic && options.copy.known_refusing && src.session && dst.session &&
        options.copy.known_refusing(relay_pair_name(*src.session, *dst.session));
}

} // namespace rsexec
