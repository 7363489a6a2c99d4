#pragma once
// The options every transferring command shares (copy, batch): dialect, roles, timeouts,
// credentials and tracing, parsed once into the library's option structs.
#include <optional>
#include <string>

#include <cxxopts.hpp>

#include "ftp/netrc.hpp"
#include "client/transfer.hpp"

namespace rsexec::cli {

struct TransferSettings {
    CopyOptions copy;
    SessionOptions session;
    std::optional<Netrc> netrc;
    bool verbose = false;
};

void add_transfer_options(cxxopts::Options& options);
// Fills `settings` from the parsed arguments; on bad values prints why and returns false.
bool read_transfer_options(const char* command, const cxxopts::ParseResult& args, TransferSettings& settings);

// A numeric option's value, checked against its range. Options are declared as strings so that
// every bad value is reported the same way, naming the option: "COMMAND: --retries must be a
// whole number from 0 to 100, not 'abc'". nullopt (the reason printed) when out of range.
std::optional<unsigned> read_whole_number(const char* command, const cxxopts::ParseResult& args, const std::string& name,
                                          unsigned min, unsigned max);
std::optional<double> read_seconds(const char* command, const cxxopts::ParseResult& args, const std::string& name,
                                   double max);

// Parses argv; on a bad option prints "COMMAND: why (try COMMAND --help)" and returns nothing.
std::optional<cxxopts::ParseResult> parse_command_line(const char* command, cxxopts::Options& options, int argc,
                                                       char** argv);

// Prints "rsexec: <error>" and returns its exit code.
int report_failure(const Error& error);

} // namespace rsexec::cli
