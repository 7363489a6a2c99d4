#pragma once
// /etc/rsexecd.conf: rsexecd's long options as "key = value" (or "key value") lines. The file is
// turned into command-line tokens and parsed by the same cxxopts definitions as the command line,
// so every option is a key, with the same checks and defaults, and no list is kept by hand.
#include <cstddef>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <cxxopts.hpp>

namespace rsexec::rsexecd {

// What the file needs to know of one long option.
struct OptionSpec {
    std::string name;      // "max-per-ip"
    bool takes_value;      // false for flags such as implicit-tls
    bool repeatable;       // a list option such as user: the key may appear on several lines
};

struct ConfigFileError {
    std::size_t line;      // 1-based
    std::string message;
};

// One setting of the file as the token cxxopts reads: "--port=21", "--implicit-tls".
struct ConfigFileOption {
    std::size_t line;
    std::string name;
    std::string token;
};

struct ConfigFile {
    std::vector<ConfigFileOption> options;
    std::vector<ConfigFileError> errors;   // every bad line, not only the first
};

// Keys that make no sense in a file (config itself, help, version).
inline const std::set<std::string, std::less<>> keys_not_in_file{"config", "help", "version"};

// Parses the file's text. Lines: "key = value", "key value", "key" (a flag), "key = true|false"
// (a flag); blank lines and lines whose first non-blank character is '#' are ignored. A value
// keeps everything after the separator up to the line's end, less surrounding blanks, or less
// one pair of enclosing double quotes ("  a value  "). A key the options do not know, a flag
// given a value, an option without one, or a single-valued key given twice is an error.
ConfigFile parse_config_file(std::string_view text, const std::vector<OptionSpec>& specs);

// The long options of every group of a cxxopts::Options, as the file sees them.
std::vector<OptionSpec> option_specs(const cxxopts::Options& options);

// The file's tokens for the options the command line did not give (the command line wins,
// a list option included: --user on the command line replaces every "user" line).
std::vector<std::string> tokens_not_overridden(const ConfigFile& file, const std::set<std::string>& on_command_line);

// Parses the command line; with --config FILE, parses again with FILE's options before the
// command line's. Prints what is wrong (an unreadable file, every bad line with its number)
// on err and returns nothing then. cxxopts' own exceptions pass through.
std::optional<cxxopts::ParseResult> parse_with_config_file(cxxopts::Options& options, int argc, const char* const* argv,
                                                           std::ostream& err);

} // namespace rsexec::rsexecd
