#include "client/path_kind.hpp"

#include <cctype>

#include "client/file_size.hpp"

namespace rsexec {

std::optional<ListEntry::Type> type_from_mlst(const Reply& reply) {
    if (!reply.completion()) return std::nullopt;
    for (const auto& line : reply.lines) {
        // The entry line starts with one space; the others with the reply code.
        if (line.empty() || line[0] != ' ') continue;
        const auto entries = parse_mlsd(std::string_view(line).substr(1));
        if (!entries.empty()) return entries.front().type;
        // parse_mlsd leaves out what it takes for "." or "..": a directory still (facts are
        // case-insensitive, RFC 3659 7.5).
        std::string facts = line.substr(1, line.find(' ', 1));
        for (auto& c : facts) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        for (const char* dir : {"type=dir;", "type=cdir;", "type=pdir;"})
            if (facts.find(dir) != std::string::npos) return ListEntry::Type::directory;
    }
    return std::nullopt;
}

std::optional<std::string> directory_from_pwd(const Reply& reply) {
    if (reply.code != 257 || reply.lines.empty()) return std::nullopt;
    const std::string& line = reply.lines.back();
    const auto open = line.find('"');
    if (open == std::string::npos) return std::nullopt;
    std::string out;
    for (std::size_t i = open + 1; i < line.size(); ++i) {
        if (line[i] != '"') {
            out += line[i];
        } else if (i + 1 < line.size() && line[i + 1] == '"') {
            out += '"';
            ++i;
        } else {
            return out;
        }
    }
    return std::nullopt;
}

asio::awaitable<Expected<bool>> is_directory(ControlSession& session, const std::string& path) {
    if (session.features().has("MLST")) {
        auto reply = co_await session.command("MLST", path);
        if (!reply) co_return reply.error();
        if (reply->completion()) co_return type_from_mlst(*reply) == ListEntry::Type::directory;
        // 550: nothing by that name. 500/502: MLST after all not there; ask as below.
        if (reply->code != 500 && reply->code != 502) co_return false;
    }
    // A file answers SIZE; a directory or a missing name does not.
    auto size = co_await size_of(session, path);
    if (size && *size) co_return false;
    if (!size && !size.error().is(Errc::permanent_reply) && !size.error().is(Errc::transient_reply))
        co_return size.error();
    auto pwd = co_await session.command("PWD");
    if (!pwd) co_return pwd.error();
    const auto here = directory_from_pwd(*pwd);
    if (!here) co_return false;  // no way back after a CWD: do not try it
    auto cwd = co_await session.command("CWD", path);
    if (!cwd) co_return cwd.error();
    if (!cwd->completion()) co_return false;
    // Back where relative paths start from.
    auto back = co_await session.expect(2, "CWD", *here);
    if (!back) co_return back.error();
    co_return true;
}

} // namespace rsexec
