// The commands of the binary. Each registers its CLI11 subcommand and returns the exit code
// through `exit_code` once run.
#pragma once

#include <CLI/CLI.hpp>

namespace batchproof::cli {

void add_check_command(CLI::App& app, int& exit_code);
void add_fmt_command(CLI::App& app, int& exit_code);
void add_simulate_command(CLI::App& app, int& exit_code);
void add_arrivals_command(CLI::App& app, int& exit_code);
void add_capacity_command(CLI::App& app, int& exit_code);
void add_prove_command(CLI::App& app, int& exit_code);
void add_verify_command(CLI::App& app, int& exit_code);
void add_search_command(CLI::App& app, int& exit_code);
void add_bound_command(CLI::App& app, int& exit_code);
void add_audit_command(CLI::App& app, int& exit_code);
void add_fit_command(CLI::App& app, int& exit_code);

}  // namespace batchproof::cli
