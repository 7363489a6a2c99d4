#pragma once
// What a server says it can do: the FEAT reply (RFC 2389 3.2), one feature per line,
// " MDTM", " MLST type*;size*;modify*;", " HASH SHA-256*;SHA-1".
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "ftp/reply.hpp"

namespace rsexec {

class Features {
public:
    Features() = default;
    // A 211 reply's feature lines; anything else yields no features.
    static Features from_reply(const Reply& reply);

    void add(std::string name, std::string parameters = {});
    bool has(std::string_view name) const;               // case-insensitive
    std::optional<std::string> parameters(std::string_view name) const;
    std::size_t size() const noexcept { return features_.size(); }

private:
    std::map<std::string, std::string, std::less<>> features_; // upper-case name -> parameters
};

} // namespace rsexec
