// batchproof: a model checker and trace verifier for the schedulers of LLM inference engines.
// main reads as a list of commands; each lives in its own file.
#include <cstdio>
#include <exception>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"

int main(int argc, char** argv) {
  using namespace batchproof::cli;
  CLI::App app{"batchproof: prove, simulate and audit the schedulers of LLM inference engines"};
  app.set_version_flag("--version", std::string("batchproof ") + BATCHPROOF_VERSION);
  app.require_subcommand(1);
  int exit_code = kHolds;
  add_check_command(app, exit_code);
  add_fmt_command(app, exit_code);
  add_simulate_command(app, exit_code);
  add_arrivals_command(app, exit_code);
  add_capacity_command(app, exit_code);
  add_prove_command(app, exit_code);
  add_search_command(app, exit_code);
  add_bound_command(app, exit_code);
  add_verify_command(app, exit_code);
  add_audit_command(app, exit_code);
  add_fit_command(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kBadInput;  // a bad command line is bad input
  } catch (const std::exception& e) {
    fmt::print(stderr, "batchproof: internal error: {}\n", e.what());
    return kInternal;
  }
  return exit_code;
}
