// Items into a directory the destination lacks: made (MKD, parents first) when the item's STOR is
// refused, and the item tried once more. An item into a directory that exists costs nothing more:
// no MKD or MLST is sent before its STOR.
#include "batch_state.hpp"

#include "client/make_directories.hpp"

namespace rsexec {
namespace {

// The destination refusing to store the file (the temporary name's STOR, APPE, or the rename onto
// the final name) as servers refuse a file in a missing directory: 553 "Could not create file"
// (vsftpd, rsexecd), 550 "No such file or directory" (ProFTPD and others), RFC 959 4.2.
bool refused_store(const Error& error) {
    if (error.side != Side::destination || (error.reply_code != 550 && error.reply_code != 553)) return false;
    for (const std::string_view verb : {"STOR ", "APPE ", "RNTO "})
        if (error.message.starts_with(verb)) return true;
    return false;
}

} // namespace

std::optional<std::string> BatchRun::State::directory_to_make(std::size_t index, Error& error) {
    if (!refused_store(error) || directories_made.count(index) || aborting) return std::nullopt;
    const JobItem& item = item_at(index);
    auto target = destination_path(item.source, item.destination);
    if (!target) return std::nullopt;
    std::string directory = parent_directory(*target);
    if (directory.empty() || directory == "/") return std::nullopt;
    if (!item.mkdirs.value_or(options.make_directories)) {
        error.message += item.mkdirs ? " (its directory is not made: the line says \"mkdirs\": false)"
                                     : " (its directory is not made: --no-mkdirs)";
        return std::nullopt;
    }
    directories_made.insert(index);
    return directory;
}

asio::awaitable<Expected<bool>> BatchRun::State::make_missing_directory(Site& src, Site& dst, std::size_t index,
                                                                        unsigned worker, Error& error) {
    const auto directory = directory_to_make(index, error);
    if (!directory) co_return false;
    // Two workers may make the same directory at once: make_directories takes an MKD refused for
    // one that then exists as made.
    if (auto opened = co_await ensure_pair(src, dst, item_at(index), worker); !opened) co_return opened.error();
    if (auto made = co_await make_directories(*dst.session, *directory); !made) {
        drop(src);
        drop(dst);
        co_return made.error();
    }
    co_return true;
}

asio::awaitable<Expected<CopyResult>> BatchRun::State::again_in_made_directory(Site& src, Site& dst,
                                                                               std::size_t index, unsigned worker,
                                                                               int attempt, Error error) {
    if (!refused_store(error) || directories_made.count(index)) co_return error;
    // The failed attempt left its sessions in an unknown state: the directory is made on new ones.
    drop(src);
    drop(dst);
    auto made = co_await make_missing_directory(src, dst, index, worker, error);
    if (!made) co_return made.error();
    if (!*made) co_return error;
    co_return co_await this->attempt(src, dst, index, worker, attempt, std::nullopt);
}

} // namespace rsexec
