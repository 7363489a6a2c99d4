#pragma once
// SHA-256 of a file, for HASH (draft-bryan-ftpext-hash) and XSHA256, through OpenSSL's EVP.
#include <filesystem>
#include <string>

#include "rsexec/expected.hpp"

namespace rsexec::server {

// Lower-case hex digest of the whole file.
Expected<std::string> sha256_file(const std::filesystem::path& path);
// The same of a file already open (as the jail opened it), read from where it stands.
Expected<std::string> sha256_descriptor(int fd);

} // namespace rsexec::server
