#pragma once
// --journal, --job, --lease and --name: where batch, mirror, worker and status keep a job.
#include <memory>
#include <string>

#include <cxxopts.hpp>

#include "rsexec/journal.hpp"

namespace rsexec::cli {

// `journal_help` says what --journal defaults to for the command.
void add_journal_options(cxxopts::Options& options, const std::string& journal_help);

// This process's name among a job's workers: host:pid, unless --name says otherwise.
std::string worker_name(const cxxopts::ParseResult& args);

// Opens the journal --journal names (else `default_where`), for job --job (else `default_job`).
Expected<std::unique_ptr<Journal>> open_journal_from(const cxxopts::ParseResult& args, const std::string& default_where,
                                                     const std::string& default_job);

} // namespace rsexec::cli
