// `batchproof fmt FILE... [--check]`: rewrite specs in canonical form, or report those that
// are not (exit 1) without touching them.
#include <cstdio>
#include <fstream>

#include <fmt/format.h>

#include "cli/commands.hpp"
#include "cli/diagnostics_output.hpp"
#include "cli/exit_codes.hpp"
#include "dsl/dsl.hpp"

namespace batchproof::cli {

namespace {
struct FmtOptions {
  std::vector<std::string> files;
  bool check = false;
  bool stdout_only = false;
};

int run_fmt(const FmtOptions& o) {
  int code = kHolds;
  for (const auto& file : o.files) {
    core::Diagnostics diags;
    auto text = dsl::read_file(file, diags);
    std::optional<std::string> formatted;
    if (text) formatted = dsl::format_source(file, *text, diags);
    print_diagnostics(diags);
    if (!formatted) {
      code = worst(code, kBadInput);
      continue;
    }
    if (o.stdout_only) {
      fmt::print("{}", *formatted);
    } else if (o.check) {
      if (*formatted != *text) {
        fmt::print("{}: not in canonical form (run 'batchproof fmt {}')\n", file, file);
        code = worst(code, kViolated);
      }
    } else if (*formatted != *text) {
      // Write to a temporary file first, so that a failed write never leaves half a spec.
      std::string tmp = file + ".bpfmt.tmp";
      {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out << *formatted;
        if (!out) {
          fmt::print(stderr, "{}: error: cannot write '{}'\n", file, tmp);
          code = worst(code, kBadInput);
          continue;
        }
      }
      if (std::rename(tmp.c_str(), file.c_str()) != 0) {
        std::remove(tmp.c_str());
        fmt::print(stderr, "{}: error: cannot replace the file\n", file);
        code = worst(code, kBadInput);
        continue;
      }
      fmt::print("{}: formatted\n", file);
    }
  }
  return code;
}
}  // namespace

void add_fmt_command(CLI::App& app, int& exit_code) {
  auto opts = std::make_shared<FmtOptions>();
  CLI::App* cmd = app.add_subcommand("fmt", "Rewrite specs in canonical form (in place)");
  cmd->add_option("files", opts->files, "spec files (.bp)")->required();
  cmd->add_flag("--check", opts->check, "change nothing; exit 1 if a file is not in canonical form");
  cmd->add_flag("--stdout", opts->stdout_only, "print the canonical form instead of rewriting the file");
  cmd->callback([opts, &exit_code] { exit_code = run_fmt(*opts); });
}

}  // namespace batchproof::cli
