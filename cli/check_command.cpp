// `batchproof check FILE...`: parse, resolve, check units; print each file's summary.
#include <cstdio>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/check_report.hpp"
#include "cli/commands.hpp"
#include "cli/diagnostics_output.hpp"
#include "cli/exit_codes.hpp"
#include "dsl/dsl.hpp"

namespace batchproof::cli {

namespace {
struct CheckOptions {
  std::vector<std::string> files;
  bool json = false;
};

int run_check(const CheckOptions& o) {
  int code = kHolds;
  nlohmann::json out{{"schema_version", 1}, {"command", "check"}, {"files", nlohmann::json::array()}};
  bool first = true;
  for (const auto& file : o.files) {
    core::Diagnostics diags;
    auto spec = dsl::load_spec(file, diags);
    print_diagnostics(diags);
    if (!spec) {
      code = worst(code, kBadInput);
      if (o.json) {
        nlohmann::json errors = nlohmann::json::array();
        for (const auto& d : diags.sorted())
          if (d.severity == core::Severity::Error)
            errors.push_back({{"file", d.loc.file}, {"line", d.loc.line}, {"col", d.loc.col}, {"message", d.message}});
        out["files"].push_back({{"file", file}, {"ok", false}, {"errors", errors}});
      }
      continue;
    }
    CheckReport report = build_report(file, *spec);
    if (o.json) {
      out["files"].push_back(render_json(report));
    } else {
      fmt::print("{}{}", first ? "" : "\n", render_text(report));
      first = false;
    }
  }
  if (o.json) fmt::print("{}\n", out.dump(2));
  return code;
}
}  // namespace

void add_check_command(CLI::App& app, int& exit_code) {
  auto opts = std::make_shared<CheckOptions>();
  CLI::App* cmd = app.add_subcommand(
      "check", "Parse specs, resolve names, check units; print each engine's capacity and each workload's load");
  cmd->add_option("files", opts->files, "spec files (.bp)")->required();
  cmd->add_flag("--json", opts->json, "one JSON document on stdout");
  cmd->callback([opts, &exit_code] { exit_code = run_check(*opts); });
}

}  // namespace batchproof::cli
