#pragma once
// --journal, --job, --lease, --name, --dump-failed (and --no-journal where a journal is optional): where batch,
// mirror and worker keep a job. One definition, so that the three commands take them alike.
#include <memory>
#include <optional>
#include <string>

#include <cxxopts.hpp>

#include "jobs/journal.hpp"

namespace rsexec::cli {

// `journal_help` says what --journal defaults to for the command; `optional` adds --no-journal.
void add_journal_options(cxxopts::Options& options, const std::string& journal_help, bool optional);

struct JournalSettings {
    std::optional<std::string> where;  // --journal
    bool none = false;                 // --no-journal
    std::optional<std::string> dump_failed;  // --dump-failed FILE
    JournalOptions journal;            // job (--job, else empty), worker (--name), lease (--lease)
};

// This process's name among a job's workers: host:pid, unless --name says otherwise.
std::string worker_name(const cxxopts::ParseResult& args);

// Checks the values (the reason printed) and fills `settings`.
bool read_journal_options(const char* command, const cxxopts::ParseResult& args, JournalSettings& settings);

// Opens the journal --journal names (else `default_where`), for job --job (else `default_job`).
Expected<std::unique_ptr<Journal>> open_journal_from(const JournalSettings& settings, const std::string& default_where,
                                                     const std::string& default_job);

// A journal in memory, for --dump-failed to read after a run that keeps none (--no-journal, stdin).
Expected<std::unique_ptr<Journal>> journal_for_dump(const JournalSettings& settings, const std::string& job);

} // namespace rsexec::cli
