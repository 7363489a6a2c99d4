#include "client/server_digest.hpp"

namespace rsexec {

asio::awaitable<Expected<std::string>> digest_of(ControlSession& session, const ChecksumCommand& command,
                                                 HashAlgorithm algorithm, const std::string& path,
                                                 std::uint64_t size) {
    if (command.select) {
        // draft-bryan-ftpext-hash 3.2: OPTS HASH <algorithm> selects it for later HASH commands.
        auto selected = co_await session.expect(2, "OPTS", "HASH " + *command.select);
        if (!selected) co_return selected.error();
    }
    if (auto sent = co_await session.send(command.verb, path); !sent) co_return sent.error();
    const auto limit = session.timeout() + std::chrono::seconds(size / (20u << 20));
    auto reply = co_await session.read_reply(limit);
    if (!reply) co_return reply.error();
    if (!reply->completion()) co_return session.refused(command.verb + " " + path, *reply);
    auto digest = parse_checksum_reply(*reply, command, algorithm);
    if (!digest) {
        Error error = digest.error();
        error.side = session.side();
        co_return error;
    }
    co_return digest;
}

} // namespace rsexec
