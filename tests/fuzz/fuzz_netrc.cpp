// libFuzzer target: the netrc parser. Any text either parses or is refused with a message;
// lookups in what parsed are consistent.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "require.hpp"

#include "ftp/netrc.hpp"

namespace {


} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto netrc = rsexec::Netrc::parse(text);
    if (!netrc) {
        require(!netrc.error().message.empty());
        return 0;
    }
    for (std::string_view host : {"a.example", "ftp.example.org", "127.0.0.2", "", "default"}) {
        const auto entry = netrc->find(host);
        // A machine entry is returned only for its own host; otherwise the default entry.
        if (entry) require(entry->machine.empty() || entry->machine == host);
        rsexec::FtpUrl url;
        url.host = std::string(host);
        const auto credentials = rsexec::credentials_for(url, &*netrc);
        if (entry && !entry->login.empty()) require(credentials.user == entry->login);
    }
    return 0;
}
