#include "server/users_file.hpp"

#include <fstream>
#include <map>
#include <sstream>
#include <sys/stat.h>

namespace rsexec::server {
namespace {

// The alphabet of crypt(3)'s base64 ("./0-9A-Za-z").
bool is_crypt64(char c) {
    return c == '.' || c == '/' || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

bool all_crypt64(std::string_view text) {
    for (char c : text)
        if (!is_crypt64(c)) return false;
    return true;
}

std::vector<std::string_view> split_dollars(std::string_view text) {
    std::vector<std::string_view> fields;
    for (;;) {
        const auto dollar = text.find('$');
        fields.push_back(text.substr(0, dollar));
        if (dollar == std::string_view::npos) return fields;
        text.remove_prefix(dollar + 1);
    }
}

// SHA-crypt ($5$, $6$): "$id$[rounds=N$]salt$digest"; the digest is 43 or 86 characters.
std::string check_sha_crypt(const std::vector<std::string_view>& fields, std::size_t digest_length) {
    std::size_t salt = 2;
    if (fields.size() == 5 && fields[2].starts_with("rounds=")) {
        const auto rounds = fields[2].substr(7);
        if (rounds.empty() || rounds.size() > 9 || rounds.find_first_not_of("0123456789") != std::string_view::npos)
            return "the hash's rounds= is not a number";
        salt = 3;
    } else if (fields.size() != 4) {
        return "the hash has not the form $id$[rounds=N$]salt$digest";
    }
    if (fields[salt].empty() || fields[salt].size() > 16 || !all_crypt64(fields[salt]))
        return "the hash's salt is not 1-16 characters of ./0-9A-Za-z";
    if (fields[salt + 1].size() != digest_length || !all_crypt64(fields[salt + 1]))
        return "the hash's digest is not " + std::to_string(digest_length) + " characters of ./0-9A-Za-z";
    return {};
}

// yescrypt: "$y$params$salt$digest", the digest 43 characters.
std::string check_yescrypt(const std::vector<std::string_view>& fields) {
    if (fields.size() != 5) return "the hash has not the form $y$params$salt$digest";
    if (fields[2].empty() || !all_crypt64(fields[2])) return "the hash's yescrypt parameters are malformed";
    if (fields[3].empty() || fields[3].size() > 86 || !all_crypt64(fields[3])) return "the hash's salt is malformed";
    if (fields[4].size() != 43 || !all_crypt64(fields[4]))
        return "the hash's digest is not 43 characters of ./0-9A-Za-z";
    return {};
}

// Empty when `hash` is a well-formed hash of a method rsexecd accepts; otherwise why not.
std::string check_hash(std::string_view hash) {
    if (hash.empty()) return "no hash after the ':'";
    if (hash.front() != '$')
        return "the password is in plain text (or an old DES hash); write a crypt(3) hash, e.g. "
               "openssl passwd -6";
    const auto fields = split_dollars(hash);
    if (fields.size() < 3 || !fields[0].empty()) return "the hash has not the form $id$...";
    if (fields[1] == "6") return check_sha_crypt(fields, 86);
    if (fields[1] == "5") return check_sha_crypt(fields, 43);
    if (fields[1] == "y") return check_yescrypt(fields);
    if (fields[1] == "1") return "MD5-crypt ($1$) is too weak; use openssl passwd -6";
    return "unsupported hash method (use $6$ or $5$ from openssl passwd, or $y$ yescrypt)";
}

// A user name as USER may carry it: printable ASCII, no space, no ':'.
bool is_valid_name(std::string_view name) {
    if (name.empty() || name.size() > 256) return false;
    for (char c : name)
        if (c <= ' ' || c > '~' || c == ':') return false;
    return true;
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) text.remove_suffix(1);
    return text;
}

} // namespace

UsersFileContents parse_users_file(std::string_view text) {
    UsersFileContents contents;
    std::map<std::string, std::size_t, std::less<>> seen; // name -> line
    std::size_t number = 0;
    while (!text.empty()) {
        ++number;
        const auto newline = text.find('\n');
        auto line = trim(text.substr(0, newline));
        text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
        if (line.empty() || line.front() == '#') continue;
        const auto error = [&](std::string message) { contents.errors.push_back({number, std::move(message)}); };
        if (line.find('\0') != std::string_view::npos) {
            error("a NUL byte");
            continue;
        }
        const auto colon = line.find(':');
        if (colon == std::string_view::npos) {
            error("not NAME:HASH (no ':')");
            continue;
        }
        const auto name = line.substr(0, colon);
        if (!is_valid_name(name)) {
            error("the name is empty, too long, or holds a space, a control character or non-ASCII");
            continue;
        }
        if (auto why = check_hash(line.substr(colon + 1)); !why.empty()) {
            error("user " + std::string(name) + ": " + why);
            continue;
        }
        if (auto earlier = seen.find(name); earlier != seen.end()) {
            error("user " + std::string(name) + " is already defined on line " + std::to_string(earlier->second));
            continue;
        }
        seen.emplace(std::string(name), number);
        contents.entries.push_back({number, std::string(name), std::string(line.substr(colon + 1))});
    }
    return contents;
}

UsersFileResult read_users_file(const std::filesystem::path& path) {
    UsersFileResult result;
    const std::string where = path.string();
    std::ifstream in(path, std::ios::binary);
    struct ::stat st {};
    if (!in || ::stat(path.c_str(), &st) != 0) {
        result.errors.push_back(where + ": cannot read it");
        return result;
    }
    if (!S_ISREG(st.st_mode)) {
        result.errors.push_back(where + ": not a plain file");
        return result;
    }
    // Hashes can be cracked offline: like /etc/shadow, the file is for rsexecd's user alone.
    if ((st.st_mode & (S_IRGRP | S_IROTH)) != 0)
        result.warnings.push_back(where + " is readable by group or others; chmod 600 it");
    constexpr std::size_t largest = 16 * 1024 * 1024;
    if (static_cast<std::uint64_t>(st.st_size) > largest) {
        result.errors.push_back(where + ": larger than 16 MiB");
        return result;
    }
    std::ostringstream text;
    text << in.rdbuf();
    const auto contents = parse_users_file(text.str());
    for (const auto& error : contents.errors)
        result.errors.push_back(where + ":" + std::to_string(error.line) + ": " + error.message);
    for (const auto& entry : contents.entries) {
        if (!crypt_method_available(entry.hash)) {
            result.errors.push_back(where + ":" + std::to_string(entry.line) + ": user " + entry.name +
                                    ": this system's libcrypt cannot check this hash method");
            continue;
        }
        result.accounts.push_back({entry.name, {}, entry.hash});
    }
    if (result.errors.empty() && result.accounts.empty()) result.errors.push_back(where + ": no NAME:HASH line");
    return result;
}

} // namespace rsexec::server
