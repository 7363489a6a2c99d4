#pragma once
// The subcommands of `rsexec`; each parses its own options and returns the exit code.
namespace rsexec::cli {

int copy_command(int argc, char** argv);
int batch_command(int argc, char** argv);
int mirror_command(int argc, char** argv);
int worker_command(int argc, char** argv);
int status_command(int argc, char** argv);
int ls_command(int argc, char** argv);

} // namespace rsexec::cli
