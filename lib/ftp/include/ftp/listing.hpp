#pragma once
// Directory listings as servers send them on the data connection:
//   MLSD (RFC 3659 7): "type=file;size=1234;modify=20261125114600; name"
//   LIST (no standard; the Unix ls -l form nearly every server uses):
//        "-rw-r--r--   1 owner group     1234 Nov 25 11:46 name"
//        or the DOS form of IIS and some Windows servers:
//        "11-25-26  11:46AM                 1234 name", "11-25-26  11:46AM       <DIR>          dir"
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rsexec {

struct ListEntry {
    enum class Type { file, directory, other };
    std::string name;
    Type type = Type::other;
    std::optional<std::uint64_t> size;
    std::optional<std::string> modify;  // MLSD's YYYYMMDDHHMMSS[.sss], UTC
    // A symbolic link (MLSD "type=OS.unix=slink" or "symlink", LIST's 'l'): its type is other,
    // whatever it points to, so a tree walk never follows one.
    bool symlink = false;
    // MLSD's "unique" fact (RFC 3659 7.5.2): the same value names the same object, so a walk
    // that meets a directory's value twice has found a loop.
    std::optional<std::string> unique;
};

// Bounds on one entry, whatever the server sends: a name (PATH_MAX on Linux), and the line that
// carries it (facts or ls fields, then the name).
inline constexpr std::size_t max_name_bytes = 4096;
inline constexpr std::size_t max_entry_bytes = 8192;

// unix_list reads LIST's lines: the Unix form, else the DOS form, line by line.
enum class ListingFormat { mlsd, unix_list };

// A listing parsed as it arrives: only the line being read is held, never more than
// max_entry_bytes of it. A longer line, or a name over max_name_bytes, is skipped and counted.
class ListingParser {
public:
    explicit ListingParser(ListingFormat format) : format_(format) {}
    void feed(std::string_view bytes);
    // The end of the listing: a last line without its line end is read too.
    void finish();
    std::vector<ListEntry>& entries() noexcept { return entries_; }
    // Entries skipped for a line over max_entry_bytes or a name over max_name_bytes.
    std::size_t oversized() const noexcept { return oversized_; }

private:
    void on_line(std::string_view line);

    ListingFormat format_;
    std::string line_;        // the line so far (at most max_entry_bytes)
    bool overlong_ = false;   // the current line went over the bound: dropped up to its end
    std::vector<ListEntry> entries_;
    std::size_t oversized_ = 0;
};

// Lines that cannot be read, oversized entries, and the "." / ".." entries are left out.
std::vector<ListEntry> parse_mlsd(std::string_view text);
std::vector<ListEntry> parse_unix_list(std::string_view text);

} // namespace rsexec
