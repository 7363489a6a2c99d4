// The two sessions a worker holds: opened, reused, adopted, dropped; checks that need them.
#include "batch_state.hpp"

namespace rsexec {

void BatchRun::State::drop(Site& site) {
    if (!site.session) return;
    open_sessions.erase(site.session.get());
    site.session->close();
    site.session.reset();
    limiter.release(site.server);
    site.login.clear();
}

// Takes the connection slot for a session that is not open yet for this URL's login;
// false when the open session already fits.
asio::awaitable<bool> BatchRun::State::reserve(Site& site, const FtpUrl& url) {
    const auto login = login_of(url, credentials_for(url, options.netrc));
    if (site.session && site.session->is_open() && site.login == login) co_return false;
    drop(site);
    site.server = server_of(url);
    co_await limiter.acquire(site.server);
    site.login = login;
    co_return true;
}

// A session opened elsewhere, counted as this worker's own.
asio::awaitable<void> BatchRun::State::adopt(
    Site& site, std::unique_ptr<ControlSession>& session, const FtpUrl& url) {
    if (!session || !session->is_open()) co_return;
    site.server = server_of(url);
    co_await limiter.acquire(site.server);
    site.login = login_of(url, credentials_for(url, options.netrc));
    site.session = std::move(session);
    open_sessions.insert(site.session.get());
    ++summary.logins;  // made for this run, before it began
    summary.peak_per_host = limiter.peak();
}

asio::awaitable<Status> BatchRun::State::open(Site& site, Side side, const FtpUrl& url, unsigned worker) {
    // Items a shared journal holds carry no password, and a run working on them is unattended
    // (rsexec worker): nothing is asked, and a login that can only fail is not tried.
    if (needs_password(url, options.netrc)) {
        limiter.release(site.server);  // reserve's slot: no session holds it
        site.login.clear();
        co_return Error(Errc::login_failed,
                        "no password for " + *url.user + "@" + url.host + ": give it in ~/.netrc (--netrc) or the URL; "
                        "a worker never asks for one",
                        side);
    }
    SessionOptions session_options = options.session;
    session_options.label = std::string(side_name(side)) + "#" + std::to_string(worker);
    site.session = std::make_unique<ControlSession>(executor, side, std::move(session_options));
    open_sessions.insert(site.session.get());
    ++summary.logins;
    summary.peak_per_host = limiter.peak();
    auto opened = co_await site.session->open(url.host, url.port, credentials_for(url, options.netrc), url.implicit_tls());
    if (!opened) drop(site);
    co_return opened;
}

// The two sessions an item needs, reusing those already open. Connection slots are taken in
// a fixed order (source, then destination) so that two workers never wait on each other;
// the logins then run side by side.
asio::awaitable<Status> BatchRun::State::ensure_pair(Site& src, Site& dst, const JobItem& item, unsigned worker) {
    const bool open_src = co_await reserve(src, item.source);
    const bool open_dst = co_await reserve(dst, item.destination);
    Status src_opened = success(), dst_opened = success();
    if (open_src && open_dst) {
        using namespace asio::experimental::awaitable_operators;
        std::tie(src_opened, dst_opened) = co_await (open(src, Side::source, item.source, worker) &&
                                                     open(dst, Side::destination, item.destination, worker));
    } else if (open_src) {
        src_opened = co_await open(src, Side::source, item.source, worker);
    } else if (open_dst) {
        dst_opened = co_await open(dst, Side::destination, item.destination, worker);
    }
    if (!src_opened) {
        drop(dst);  // the pair is not usable: do not hold the other slot
        co_return src_opened;
    }
    co_return dst_opened;
}

// An item an earlier run or a lost worker started may have been copied and renamed before
// its outcome reached the journal: a final file the size of the source is that copy.
asio::awaitable<std::optional<CopyResult>> BatchRun::State::found_complete(
    Site& src, Site& dst, const JobItem& item, const std::string& target) {
    auto copied = co_await size_of(*dst.session, target);
    if (!copied || !*copied || **copied == 0) co_return std::nullopt;
    auto original = co_await size_of(*src.session, item.source.path);
    if (!original || !*original || **original != **copied) co_return std::nullopt;
    CopyResult result;
    result.bytes = **copied;
    result.found_complete = true;
    co_return result;
}

// A copy onto itself would truncate or double the file: the item fails before any command
// that changes a file, by name or by the addresses the two sessions reached.
std::optional<Error> BatchRun::State::onto_itself(
    const Site& src, const Site& dst, const JobItem& item, const std::string& target) {
    std::optional<asio::ip::address> src_address, dst_address;
    if (src.session && src.session->is_open()) src_address = src.session->peer_address();
    if (dst.session && dst.session->is_open()) dst_address = dst.session->peer_address();
    if (!same_file(item.source, item.source.path, item.destination, target, src_address, dst_address))
        return std::nullopt;
    return Error(Errc::bad_url, "source and destination are the same file (" + item.destination.authority() + " " +
                                    target + "): copying it onto itself would destroy it");
}

// QUIT on both, and the connections closed without waiting for the 221s: whatever they say, the
// sessions are done with, and the last worker's QUIT would otherwise add a round trip to the run.
// Every reply due has been read by then, so the close is a FIN behind the QUIT, not a reset.
asio::awaitable<void> BatchRun::State::quit(Site& src, Site& dst) {
    const auto say_goodbye = [](Site& site) -> asio::awaitable<void> {
        if (site.session && site.session->is_open()) (void)co_await site.session->send("QUIT");
    };
    using namespace asio::experimental::awaitable_operators;
    co_await (say_goodbye(src) && say_goodbye(dst));
    drop(src);
    drop(dst);
}

} // namespace rsexec
