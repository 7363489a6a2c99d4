#include "server/checksum.hpp"

#include <memory>
#include <vector>

#include <fcntl.h>
#include <openssl/evp.h>

#include "server/file_descriptor.hpp"

namespace rsexec::server {

Expected<std::string> sha256_file(const std::filesystem::path& path) {
    FileDescriptor file(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!file) return Error(std::error_code(errno, std::generic_category()), "cannot open " + path.filename().string());
    auto digest = sha256_descriptor(file.get());
    if (!digest) return Error(digest.error().code, digest.error().message + " " + path.filename().string());
    return digest;
}

Expected<std::string> sha256_descriptor(int fd) {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    if (!context || EVP_DigestInit_ex(context.get(), EVP_sha256(), nullptr) != 1)
        return Error(std::make_error_code(std::errc::not_enough_memory), "SHA-256 unavailable");
    std::vector<unsigned char> buffer(256 * 1024);
    for (;;) {
        const auto n = ::read(fd, buffer.data(), buffer.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return Error(std::error_code(errno, std::generic_category()), "cannot read");
        }
        if (n == 0) break;
        EVP_DigestUpdate(context.get(), buffer.data(), static_cast<std::size_t>(n));
    }
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_DigestFinal_ex(context.get(), digest, &length);
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < length; ++i) {
        out += hex[digest[i] >> 4];
        out += hex[digest[i] & 0xf];
    }
    return out;
}

} // namespace rsexec::server
