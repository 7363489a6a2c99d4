#include "client/overwrite_check.hpp"

#include <asio/experimental/awaitable_operators.hpp>

#include "client/file_size.hpp"
#include "client/server_digest.hpp"

namespace rsexec {
namespace {

using namespace asio::experimental::awaitable_operators;

// MDTM of one file; nullopt where the server cannot tell (no MDTM, an unreadable reply).
asio::awaitable<Expected<std::optional<std::string>>> modify_of(ControlSession& session, const std::string& path) {
    auto reply = co_await session.command("MDTM", path);
    if (!reply) co_return reply.error();
    co_return modify_from_mdtm(*reply);
}

bool unsupported(int code) { return code == 500 || code == 502 || code == 504; }

} // namespace

std::optional<std::string> modify_from_mdtm(const Reply& reply) {
    if (reply.code != 213) return std::nullopt;
    std::string text = reply.message();
    while (!text.empty() && (text.back() == ' ' || text.back() == '\r')) text.pop_back();
    if (!later_than(text, text)) return std::nullopt;  // not a time-val
    return text;
}

asio::awaitable<Expected<OverwriteDecision>> check_overwrite(ControlSession& source, ControlSession& destination,
                                                             const std::string& source_path,
                                                             const std::string& destination_path,
                                                             std::optional<std::uint64_t> source_size,
                                                             Overwrite policy,
                                                             const std::optional<ChecksumPlan>& checksum) {
    if (policy == Overwrite::always) co_return OverwriteDecision{};
    OverwriteFacts facts;
    facts.source.size = source_size;
    // RFC 3659 4.2: SIZE of a missing file is refused (550); a file answers 213.
    auto size = co_await size_of(destination, destination_path);
    if (size) {
        facts.destination_exists = true;
        facts.destination.size = *size;
        if (!*size) {
            // No SIZE here: MDTM tells whether the file is there.
            auto reply = co_await destination.command("MDTM", destination_path);
            if (!reply) co_return reply.error();
            if (unsupported(reply->code))
                co_return Error(Errc::permanent_reply,
                                "--overwrite " + std::string(overwrite_name(policy)) +
                                    ": the destination answers neither SIZE nor MDTM, so whether " +
                                    destination_path + " exists cannot be told",
                                Side::destination, reply->code);
            facts.destination_exists = reply->completion();
            facts.destination.modify = modify_from_mdtm(*reply);
        }
    } else if (size.error().is(Errc::permanent_reply)) {
        facts.destination_exists = false;
    } else {
        co_return size.error();
    }
    if (!facts.destination_exists) co_return OverwriteDecision{};

    if (policy == Overwrite::newer || policy == Overwrite::different_or_newer) {
        auto [on_source, on_destination] =
            co_await (modify_of(source, source_path) && modify_of(destination, destination_path));
        if (!on_source) co_return on_source.error();
        if (!on_destination) co_return on_destination.error();
        facts.source.modify = *on_source;
        facts.destination.modify = *on_destination;
    }
    facts.compare_digests = checksum.has_value();
    auto decision = decide_overwrite(policy, facts);
    if (decision.action != OverwriteDecision::Action::ask_digests) co_return decision;

    const std::uint64_t bytes = source_size.value_or(0);
    auto [on_source, on_destination] =
        co_await (digest_of(source, checksum->source, checksum->algorithm, source_path, bytes) &&
                  digest_of(destination, checksum->destination, checksum->algorithm, destination_path, bytes));
    // A digest a server will not compute leaves the copy to be made; a lost connection is an error.
    for (auto* digest : {&on_source, &on_destination}) {
        if (*digest) continue;
        const auto& error = digest->error();
        if (!error.is(Errc::permanent_reply) && !error.is(Errc::transient_reply) && !error.is(Errc::malformed_reply))
            co_return error;
    }
    if (on_source) facts.source.digest = *on_source;
    if (on_destination) facts.destination.digest = *on_destination;
    facts.digests_asked = true;
    co_return decide_overwrite(policy, facts);
}

} // namespace rsexec
