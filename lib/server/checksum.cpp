#include "server/checksum.hpp"

#include <memory>
#include <optional>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>
#include <openssl/evp.h>
#include <unistd.h>

namespace rsexec::server {
namespace {

// An incremental SHA-256.
class Sha256 {
public:
    Sha256() : context_(EVP_MD_CTX_new(), EVP_MD_CTX_free) {
        if (context_ && EVP_DigestInit_ex(context_.get(), EVP_sha256(), nullptr) != 1) context_.reset();
    }
    explicit operator bool() const noexcept { return context_ != nullptr; }
    void update(const unsigned char* data, std::size_t size) { EVP_DigestUpdate(context_.get(), data, size); }
    std::string hex_digest() {
        unsigned char digest[EVP_MAX_MD_SIZE];
        unsigned int length = 0;
        EVP_DigestFinal_ex(context_.get(), digest, &length);
        static constexpr char hex[] = "0123456789abcdef";
        std::string out;
        for (unsigned int i = 0; i < length; ++i) {
            out += hex[digest[i] >> 4];
            out += hex[digest[i] & 0xf];
        }
        return out;
    }

private:
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context_;
};

Error errno_error(const std::string& what) { return Error(std::error_code(errno, std::generic_category()), what); }

// Reads up to `size` bytes at `offset`; the count, 0 at the end of the file, -1 on an error.
ssize_t read_at(int fd, unsigned char* buffer, std::size_t size, std::uint64_t offset) {
    for (;;) {
        const auto n = ::pread(fd, buffer, size, static_cast<off_t>(offset));
        if (n >= 0 || errno != EINTR) return n;
    }
}

// What a job hands back across co_spawn, which wants a default-constructible result.
struct Outcome {
    std::string hex;
    std::optional<Error> error;
    Outcome() = default;
    Outcome(std::string digest) : hex(std::move(digest)) {}
    Outcome(Error failure) : error(std::move(failure)) {}
};

asio::awaitable<Outcome> hash_on_pool(asio::thread_pool::executor_type pool, FileDescriptor file, std::uint64_t size,
                                      std::shared_ptr<std::atomic<bool>> cancelled) {
    Sha256 sha;
    if (!sha) co_return Error(std::make_error_code(std::errc::not_enough_memory), "SHA-256 unavailable");
    std::vector<unsigned char> buffer(HashPool::chunk_size);
    std::uint64_t done = 0;
    while (done < size) {
        if (cancelled->load()) co_return Error(Errc::interrupted, "cancelled");
        const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), size - done));
        const auto n = read_at(file.get(), buffer.data(), want, done);
        if (n < 0) co_return errno_error("cannot read the file");
        if (n == 0) co_return Error(Errc::transfer_failed, "the file shrank while it was hashed");
        sha.update(buffer.data(), static_cast<std::size_t>(n));
        done += static_cast<std::uint64_t>(n);
        // To the back of the queue: the other sessions' jobs get their chunk first.
        co_await asio::post(pool, asio::use_awaitable);
    }
    co_return sha.hex_digest();
}

} // namespace

asio::awaitable<Expected<std::string>> HashPool::sha256(FileDescriptor file, std::uint64_t size,
                                                        std::shared_ptr<std::atomic<bool>> cancelled) {
    auto pool = pool_.get_executor();
    auto outcome = co_await asio::co_spawn(pool, hash_on_pool(pool, std::move(file), size, std::move(cancelled)),
                                           asio::use_awaitable);
    if (outcome.error) co_return std::move(*outcome.error);
    co_return std::move(outcome.hex);
}

} // namespace rsexec::server
