#pragma once
// `rsexec copy SRC... DST` with several sources, patterns in their last component, or -r: each
// source expanded (a pattern against its directory's listing, a directory into its tree with the
// mirror planner, without deletions), the destination directories made, and the copies handed to
// the batch engine as items.
#include <string>
#include <vector>

#include <asio/awaitable.hpp>

#include "client/control_session.hpp"
#include "ftp/job_file.hpp"
#include "ftp/netrc.hpp"
#include "ftp/url.hpp"

namespace rsexec {

struct SourcesRequest {
    std::vector<FtpUrl> sources;
    FtpUrl destination;
    bool recursive = false;          // -r: directories are copied as trees
    bool make_directories = false;   // --mkdirs: a missing DST (and its parents) is made
};

struct SourcesPlan {
    std::vector<JobItem> items;                // one per file, in source order
    std::vector<std::string> directories_made; // at the destination, parents first
    std::vector<std::string> notes;            // entries left out: "omitting directory d (use -r)"
    std::size_t up_to_date = 0;                // -r: files the destination already has alike
};

// Whether `copy` needs this plan rather than one copy_url: several sources, a pattern, or -r.
bool needs_source_plan(const std::vector<FtpUrl>& sources, bool recursive);

// Several sources, or a pattern, need DST to be a directory: one that exists, or made with
// --mkdirs; otherwise Errc::bad_url (exit 2) naming it. Patterns that match nothing, or only what
// cannot be copied, are a source refusal (exit 5) naming the pattern.
asio::awaitable<Expected<SourcesPlan>> plan_sources(const SourcesRequest& request, const SessionOptions& session,
                                                    const Netrc* netrc);

// --mkdirs for a single copy: the directory a destination URL's file goes into, made with its
// parents (one login, MKD, QUIT).
asio::awaitable<Status> make_destination_directory(const FtpUrl& destination, const SessionOptions& session,
                                                   const Netrc* netrc);

} // namespace rsexec
