#include "server/account.hpp"

#include <crypt.h>
#include <cstring>
#include <memory>
#include <openssl/crypto.h>

namespace rsexec::server {
namespace {

bool same_bytes(std::string_view a, std::string_view b) {
    return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

} // namespace

bool matches_crypt_hash(std::string_view password, const std::string& hash) {
    // crypt(3) stops at a NUL: a password holding one must not match by its prefix.
    if (password.find('\0') != std::string_view::npos) return false;
    const std::string phrase(password);
    auto data = std::make_unique<crypt_data>(); // about 32 KiB: not on a coroutine's stack
    std::memset(data.get(), 0, sizeof *data);
    const char* produced = crypt_rn(phrase.c_str(), hash.c_str(), data.get(), sizeof *data);
    // On failure crypt_rn returns NULL (or, in some builds, a "*0"/"*1" token that never equals a hash).
    const bool same = produced != nullptr && produced[0] == '$' && same_bytes(produced, hash);
    OPENSSL_cleanse(data.get(), sizeof *data);
    return same;
}

bool crypt_method_available(const std::string& hash) {
    const int verdict = crypt_checksalt(hash.c_str());
    // CRYPT_SALT_METHOD_LEGACY still checks fine ($5$ on Debian's policy); only refuse what
    // this libcrypt cannot compute.
    return verdict == CRYPT_SALT_OK || verdict == CRYPT_SALT_METHOD_LEGACY || verdict == CRYPT_SALT_TOO_CHEAP;
}

bool check_login(const std::vector<Account>& accounts, std::string_view name, std::string_view password) {
    bool granted = false;
    bool known = false;
    const std::string* any_hash = nullptr;
    for (const auto& account : accounts) {
        if (!account.hash.empty() && !any_hash) any_hash = &account.hash;
        if (account.name != name) continue;
        known = true;
        const bool match = account.hash.empty() ? same_bytes(account.password, password)
                                                : matches_crypt_hash(password, account.hash);
        granted = granted || match;
    }
    if (!known && any_hash) {
        // The crypt(3) a known name costs (the first hash's method and salt; the verdict is
        // dropped), so that the time taken does not tell names apart.
        (void)matches_crypt_hash(password, *any_hash);
    }
    return granted;
}

} // namespace rsexec::server
