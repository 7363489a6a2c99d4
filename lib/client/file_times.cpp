#include "client/file_times.hpp"

namespace rsexec {
namespace {

// "dst 127.0.0.3:2121": the server as the user named it.
std::string server_name(const ControlSession& session) {
    const auto& login = session.login_used();
    const std::string where =
        login ? login->host + ":" + std::to_string(login->port) : session.peer_address().to_string();
    return std::string(side_name(session.side())) + " " + where;
}

void say_to(const std::function<void(const std::string&)>& sink, const std::string& text) {
    if (sink) sink(text);
}

} // namespace

bool offers_mfmt(const Features& features) { return features.has("MFMT"); }

std::string no_mfmt_notice(const ControlSession& destination) {
    return server_name(destination) + " offers no MFMT (FEAT): modification times are not kept";
}

std::optional<TimeVal> time_to_keep(const ControlSession& source, std::string_view path, const Reply& reply,
                                    const TimeNotices& say) {
    if (reply.code == 500 || reply.code == 502 || reply.code == 504) {
        say_to(say.server, server_name(source) + " answers no MDTM (" + std::to_string(reply.code) +
                               "): modification times are not kept");
        return std::nullopt;
    }
    if (!reply.completion()) {
        say_to(say.file, source.refused("MDTM " + std::string(path), reply).describe() +
                             ": the copy keeps the time it is written at");
        return std::nullopt;
    }
    auto time = time_from_mdtm_reply(reply);
    if (!time) {
        say_to(say.file, std::string(side_name(source.side())) + ": MDTM " + std::string(path) + ": " +
                             time.error().message + ": the copy keeps the time it is written at");
        return std::nullopt;
    }
    return *time;
}

asio::awaitable<std::optional<TimeVal>> ask_source_time(ControlSession& source, const ControlSession& destination,
                                                        const std::string& path, const TimeNotices& say) {
    if (!offers_mfmt(destination.features())) {
        say_to(say.server, no_mfmt_notice(destination));
        co_return std::nullopt;
    }
    auto reply = co_await source.command("MDTM", path);
    if (!reply) {
        say_to(say.file, reply.error().describe() + ": the copy keeps the time it is written at");
        co_return std::nullopt;
    }
    co_return time_to_keep(source, path, *reply, say);
}

void check_time_kept(const ControlSession& destination, std::string_view path, const Reply& reply,
                     const TimeNotices& say) {
    if (reply.code == 213) return;
    say_to(say.file, destination.refused("MFMT " + std::string(path), reply).describe() +
                         ": the copy keeps the time it was written at");
}

asio::awaitable<void> keep_time(ControlSession& destination, const std::string& path, const TimeVal& time,
                                const TimeNotices& say) {
    const auto argument = format_mfmt_argument(time, path);
    if (!argument) co_return;  // a TimeVal read from MDTM always has a year MFMT can write
    auto reply = co_await destination.command("MFMT", *argument);
    if (!reply) {
        say_to(say.file, reply.error().describe() + ": the copy keeps the time it was written at");
        co_return;
    }
    check_time_kept(destination, path, *reply, say);
}

} // namespace rsexec
