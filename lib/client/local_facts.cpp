#include "client/local_facts.hpp"

#include <cerrno>
#include <cstring>
#include <memory>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

namespace rsexec {

std::optional<LocalEntry> local_entry(const std::string& path) {
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0) return std::nullopt;
    LocalEntry entry;
    entry.directory = S_ISDIR(info.st_mode);
    entry.regular = S_ISREG(info.st_mode);
    if (entry.regular) entry.facts.size = static_cast<std::uint64_t>(info.st_size);
    // Whole seconds, as MDTM and MLSD show a time: a fraction would make a copy look newer.
    entry.facts.modify = format_time_val(std::chrono::sys_seconds(std::chrono::seconds(info.st_mtim.tv_sec)));
    return entry;
}

Expected<std::string> local_sha256(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Error(Errc::permanent_reply, "cannot open " + path + ": " + std::strerror(errno));
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context{EVP_MD_CTX_new(), &EVP_MD_CTX_free};
    EVP_DigestInit_ex(context.get(), EVP_sha256(), nullptr);
    std::unique_ptr<char[]> buffer(new char[1 << 16]);
    ssize_t got;
    while ((got = ::read(fd, buffer.get(), 1 << 16)) > 0) EVP_DigestUpdate(context.get(), buffer.get(), static_cast<std::size_t>(got));
    const int read_errno = errno;
    ::close(fd);
    if (got < 0) return Error(Errc::permanent_reply, "cannot read " + path + ": " + std::strerror(read_errno));
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_DigestFinal_ex(context.get(), digest, &length);
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < length; ++i) {
        out += digits[digest[i] >> 4];
        out += digits[digest[i] & 15];
    }
    return out;
}

bool set_local_time(const std::string& path, const TimeVal& time) {
    struct timespec times[2];
    times[0].tv_sec = 0;
    times[0].tv_nsec = UTIME_OMIT;  // the access time stays
    times[1].tv_sec = static_cast<time_t>(time.seconds.time_since_epoch().count());
    times[1].tv_nsec = 0;  // whole seconds, as the source's MDTM is compared
    return ::utimensat(AT_FDCWD, path.c_str(), times, 0) == 0;
}

} // namespace rsexec
