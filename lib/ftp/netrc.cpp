#include "ftp/netrc.hpp"

#include <fstream>
#include <sstream>

#include <sys/stat.h>

namespace rsexec {
namespace {

std::vector<std::string> tokens_of(std::string_view text, std::vector<std::size_t>& line_starts) {
    std::vector<std::string> tokens;
    std::size_t i = 0;
    while (i < text.size()) {
        if (std::isspace(static_cast<unsigned char>(text[i]))) {
            ++i;
            continue;
        }
        line_starts.push_back(i);
        std::string token;
        if (text[i] == '"') {
            for (++i; i < text.size() && text[i] != '"'; ++i) {
                if (text[i] == '\\' && i + 1 < text.size()) ++i;
                token += text[i];
            }
            ++i;
        } else {
            while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) token += text[i++];
        }
        tokens.push_back(std::move(token));
    }
    return tokens;
}

} // namespace

Expected<Netrc> Netrc::parse(std::string_view text) {
    // macdef bodies run to the next blank line; cut them out before tokenising.
    std::string cleaned;
    std::istringstream lines{std::string(text)};
    std::string line;
    bool in_macro = false;
    while (std::getline(lines, line)) {
        if (in_macro) {
            if (line.find_first_not_of(" \t\r") == std::string::npos) in_macro = false;
            continue;
        }
        if (line.find("macdef") != std::string::npos) in_macro = true;
        cleaned += line + '\n';
    }

    std::vector<std::size_t> starts;
    const auto tokens = tokens_of(cleaned, starts);
    Netrc netrc;
    NetrcEntry* current = nullptr;
    for (std::size_t i = 0; i < tokens.size(); ++i) {
        const auto& key = tokens[i];
        const auto value = [&]() -> Expected<std::string> {
            if (i + 1 >= tokens.size()) return Error(Errc::bad_job, "netrc: '" + key + "' without a value");
            return tokens[++i];
        };
        if (key == "machine") {
            auto host = value();
            if (!host) return host.error();
            netrc.entries_.push_back({*host, {}, {}, {}});
            current = &netrc.entries_.back();
        } else if (key == "default") {
            netrc.entries_.push_back({});
            current = &netrc.entries_.back();
        } else if (key == "login" || key == "password" || key == "account") {
            auto field = value();
            if (!field) return field.error();
            if (!current) return Error(Errc::bad_job, "netrc: '" + key + "' before any machine");
            (key == "login" ? current->login : key == "password" ? current->password : current->account) = *field;
        } else if (key == "macdef") {
            ++i;  // the macro's name; its body was cut out above
            current = nullptr;
        } else {
            return Error(Errc::bad_job, "netrc: unknown keyword '" + key.substr(0, 40) + "'");
        }
    }
    return netrc;
}

Expected<Netrc> Netrc::load(const std::string& path) {
    struct stat info{};
    if (::stat(path.c_str(), &info) != 0) return Error(Errc::bad_job, "cannot read netrc file " + path);
    if (info.st_mode & (S_IRWXG | S_IRWXO))
        return Error(Errc::bad_job, "netrc file " + path + " is readable by others: ignored (chmod 600 it)");
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return parse(text.str());
}

std::optional<NetrcEntry> Netrc::find(std::string_view host) const {
    for (const auto& entry : entries_)
        if (!entry.machine.empty() && entry.machine == host) return entry;
    for (const auto& entry : entries_)
        if (entry.machine.empty()) return entry;
    return std::nullopt;
}

Credentials credentials_for(const FtpUrl& url, const Netrc* netrc) {
    Credentials credentials;
    if (url.user) {
        credentials.user = *url.user;
        credentials.password = url.password.value_or("");
        if (!url.password && netrc) {
            if (auto entry = netrc->find(url.host); entry && entry->login == *url.user) {
                credentials.password = entry->password;
                credentials.account = entry->account;
            }
        }
        return credentials;
    }
    if (netrc) {
        if (auto entry = netrc->find(url.host); entry && !entry->login.empty()) {
            credentials.user = entry->login;
            credentials.password = entry->password;
            credentials.account = entry->account;
        }
    }
    return credentials;
}

bool needs_password(const FtpUrl& url, const Netrc* netrc) {
    if (!url.user || url.password) return false;
    if (*url.user == "anonymous" || *url.user == "ftp") return false;
    if (netrc)
        if (auto entry = netrc->find(url.host); entry && entry->login == *url.user) return false;
    return true;
}

} // namespace rsexec
