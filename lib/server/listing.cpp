#include "server/listing.hpp"

#include <algorithm>
#include <ctime>
#include <memory>

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

namespace rsexec::server {
namespace {

using std::filesystem::perms;

std::tm utc(std::chrono::sys_seconds time) {
    const std::time_t t = std::chrono::system_clock::to_time_t(time);
    std::tm tm{};
    gmtime_r(&t, &tm);
    return tm;
}

char type_letter(Entry::Type type) {
    switch (type) {
    case Entry::Type::directory: return 'd';
    case Entry::Type::symlink: return 'l';
    case Entry::Type::file:
    case Entry::Type::other: break;
    }
    return '-';
}

std::string mode_text(const Entry& entry) {
    std::string out(1, type_letter(entry.type));
    const perms bits[] = {perms::owner_read, perms::owner_write, perms::owner_exec,
                          perms::group_read, perms::group_write, perms::group_exec,
                          perms::others_read, perms::others_write, perms::others_exec};
    const char letters[] = "rwxrwxrwx";
    for (std::size_t i = 0; i < 9; ++i) out += (entry.permissions & bits[i]) != perms::none ? letters[i] : '-';
    return out;
}

Error stat_failed(const std::string& name) {
    return Error(std::error_code(errno, std::generic_category()), "cannot stat " + printable_name(name));
}

Entry describe(const struct ::stat& st, std::string name) {
    Entry entry;
    entry.name = std::move(name);
    entry.type = S_ISDIR(st.st_mode) ? Entry::Type::directory
        : S_ISREG(st.st_mode)        ? Entry::Type::file
        : S_ISLNK(st.st_mode)        ? Entry::Type::symlink
                                     : Entry::Type::other;
    entry.size = static_cast<std::uintmax_t>(st.st_size);
    entry.modified = std::chrono::sys_seconds(std::chrono::seconds(st.st_mtim.tv_sec));
    entry.permissions = static_cast<perms>(st.st_mode & 0777);
    entry.links = static_cast<std::uintmax_t>(st.st_nlink);
    return entry;
}

bool is_control(char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte < 0x20 || byte == 0x7f;
}

} // namespace

std::string printable_name(std::string_view name) {
    std::string out(name);
    std::replace_if(out.begin(), out.end(), is_control, '?');
    return out;
}

bool has_control_character(std::string_view name) { return std::any_of(name.begin(), name.end(), is_control); }

std::string format_time_val(std::chrono::sys_seconds time) {
    const auto tm = utc(time);
    return fmt::format("{:04}{:02}{:02}{:02}{:02}{:02}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                       tm.tm_min, tm.tm_sec);
}

std::string format_list_line(const Entry& entry, std::chrono::sys_seconds now) {
    static constexpr const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                             "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    const auto tm = utc(entry.modified);
    const auto age = now - entry.modified;
    const bool recent = age >= std::chrono::seconds(0) && age < std::chrono::hours(24 * 182);
    const std::string when = recent ? fmt::format("{:02}:{:02}", tm.tm_hour, tm.tm_min)
                                    : fmt::format("{:>5}", tm.tm_year + 1900);
    return fmt::format("{} {:>3} ftp      ftp      {:>12} {} {:02} {} {}", mode_text(entry), entry.links, entry.size,
                       months[tm.tm_mon], tm.tm_mday, when, printable_name(entry.name));
}

std::string format_facts(const Entry& entry, bool writable) {
    // RFC 3659 7.5.1 and 7.5.5: a directory is entered (e), listed (l), and if writable gets
    // files (c), subdirectories (m), and may be deleted (d), renamed (f) or purged (p).
    std::string type;
    std::string perm;
    switch (entry.type) {
    case Entry::Type::directory:
        type = "dir";
        perm = writable ? "cdeflmp" : "el";
        break;
    case Entry::Type::file:
        type = "file";
        perm = writable ? "adfrw" : "r";
        break;
    case Entry::Type::symlink:
        type = "OS.unix=slink";
        perm = writable ? "df" : "";
        break;
    case Entry::Type::other:
        type = "OS.unix=other";
        break;
    }
    std::string facts = "type=" + type + ";";
    if (entry.type == Entry::Type::file) facts += fmt::format("size={};", entry.size);
    facts += "modify=" + format_time_val(entry.modified) + ";";
    facts += "perm=" + perm + ";";
    return facts + " " + printable_name(entry.name);
}

Expected<Entry> entry_of(int fd, std::string name) {
    struct ::stat st {};
    if (::fstat(fd, &st) != 0) return stat_failed(name);
    return describe(st, std::move(name));
}

Expected<Entry> entry_at(int directory, const std::string& name) {
    struct ::stat st {};
    if (::fstatat(directory, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return stat_failed(name);
    return describe(st, name);
}

Expected<std::vector<Entry>> read_directory(int directory) {
    // A descriptor of its own for the stream (fdopendir(3) takes it), readable even when
    // `directory` is O_PATH: "." reopens the same directory without resolving any name.
    const int readable = ::openat(directory, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (readable < 0) return Error(std::error_code(errno, std::generic_category()), "cannot list directory");
    struct CloseDir {
        void operator()(DIR* stream) const { ::closedir(stream); }
    };
    std::unique_ptr<DIR, CloseDir> stream(::fdopendir(readable));
    if (!stream) {
        const int error = errno;
        ::close(readable);
        return Error(std::error_code(error, std::generic_category()), "cannot list directory");
    }
    std::vector<Entry> entries;
    for (;;) {
        errno = 0;
        const auto* item = ::readdir(stream.get());
        if (item == nullptr) {
            if (errno != 0) return Error(std::error_code(errno, std::generic_category()), "cannot list directory");
            break;
        }
        const std::string name = item->d_name;
        if (name == "." || name == "..") continue;
        // An entry removed meanwhile is left out.
        if (auto entry = entry_at(::dirfd(stream.get()), name)) entries.push_back(std::move(*entry));
    }
    std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.name < b.name; });
    return entries;
}

} // namespace rsexec::server
