// `batchproof verify FILE... [--junit FILE] [--json]`: runs every `check` declared in the
// files, one line each; the CI entry point. A check with `expect` passes when the verdict is
// the one expected, so known-bad policies stay in a spec as regression cases.
#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/check_runners.hpp"
#include "cli/command_support.hpp"
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/proof_report.hpp"

namespace batchproof::cli {

namespace {

struct VerifyOptions {
  std::vector<std::string> files;
  std::string junit;
  bool json = false;
  double timeout_s = 60;
};

struct CheckRun {
  std::string file, name, property, subject;
  solver::ProofResult result;
  core::Expect expect = core::Expect::None;
  const core::Engine* engine = nullptr;
  int code = kHolds;  // this check's contribution to the exit code
  bool passed() const { return code == kHolds; }
};

CheckRun run_check(const std::string& file, const core::Spec& spec, const core::Check& c, double default_timeout) {
  CheckRun run{file, c.name, std::string(core::property_name(c.property)),
               c.workload.empty() ? c.engine : c.engine + ", " + c.workload};
  run.expect = c.expect;
  run.engine = spec.find_engine(c.engine);
  if (core::is_per_iteration(c.property) && run.engine) {
    solver::ProveOptions o;
    o.requests = static_cast<int>(c.up_to_requests.value_or(8));
    o.timeout_s = c.timeout_s.value_or(default_timeout);
    run.result = solver::prove(*run.engine, c.property, o);
  } else if (c.property == core::Property::NoInstability && c.on_network) {
    run.result = network_instability_check(spec, c, default_timeout);
  } else if (c.property == core::Property::NoInstability && run.engine) {
    run.result = instability_check(spec, c, default_timeout);
  } else if (c.property == core::Property::BacklogBound && run.engine) {
    run.result = backlog_bound_check(spec, c, default_timeout);
  } else {
    run.result.verdict = solver::Verdict::Unknown;
    run.result.reason = fmt::format("{} is not decided by verify yet", run.property);
  }
  solver::Verdict v = run.result.verdict;
  if (v == solver::Verdict::InternalError) run.code = kInternal;
  else if (v == solver::Verdict::Unknown) run.code = kUnknown;
  else if (c.expect == core::Expect::None) run.code = v == solver::Verdict::Holds ? kHolds : kViolated;
  else run.code = (v == solver::Verdict::Holds) == (c.expect == core::Expect::Holds) ? kHolds : kViolated;
  return run;
}

std::string line_of(const CheckRun& r) {
  std::string verdict = verdict_word(r.result.verdict);
  std::string scope;
  if (r.result.verdict == solver::Verdict::Holds)
    scope = r.result.reason.empty() ? fmt::format(" for up to {} requests", r.result.requests) : " (" + r.result.reason + ")";
  if (r.result.verdict == solver::Verdict::Violated) {
    if (const auto& cx = r.result.counterexample)
      scope = fmt::format(" ({} request counterexample)", cx->state.running.size() + cx->state.waiting.size());
    else
      scope = " (" + r.result.reason + ")";
  }
  std::string expectation;
  if (r.expect != core::Expect::None && (r.result.verdict == solver::Verdict::Holds || r.result.verdict == solver::Verdict::Violated))
    expectation = r.passed() ? ", as expected" : fmt::format(", expected {}", r.expect == core::Expect::Holds ? "holds" : "violated");
  if (r.result.verdict == solver::Verdict::Unknown || r.result.verdict == solver::Verdict::InternalError)
    scope = ": " + r.result.reason;
  const char* mark = r.passed() ? "ok  " : r.code == kUnknown ? "??  " : "FAIL";
  return fmt::format("{} {}: {}({}) {}{}{} [{:.2f} s]", mark, r.name, r.property, r.subject,
                     verdict, scope, expectation, r.result.seconds);
}

int run_verify(const VerifyOptions& o) {
  int code = kHolds;
  std::vector<CheckRun> runs;
  for (const auto& file : o.files) {
    auto spec = load_spec_reporting(file);
    if (!spec) {
      code = worst(code, kBadInput);
      continue;
    }
    // Only the file's own checks (not those of its imports, which are verified on their own).
    for (const auto& c : spec->checks) {
      if (c.loc.file != file) continue;
      CheckRun r = run_check(file, *spec, c, o.timeout_s);
      if (!o.json) {
        fmt::print("{}: {}\n", file, line_of(r));
        if (!r.passed() && r.result.counterexample && r.engine) fmt::print("{}", counterexample_text(*r.engine, *r.result.counterexample));
      }
      code = worst(code, r.code);
      runs.push_back(std::move(r));
    }
  }
  int failed = 0, unknown = 0;
  for (const auto& r : runs) {
    failed += r.passed() || r.code == kUnknown ? 0 : 1;
    unknown += r.code == kUnknown ? 1 : 0;
  }
  if (o.json) {
    nlohmann::json j{{"schema_version", 1}, {"command", "verify"}, {"checks", nlohmann::json::array()}};
    for (const auto& r : runs) {
      nlohmann::json c = proof_json(r.result);
      c["file"] = r.file;
      c["check"] = r.name;
      c["property"] = r.property;
      c["subject"] = r.subject;
      c["expect"] = r.expect == core::Expect::None ? nlohmann::json(nullptr)
                                                  : nlohmann::json(r.expect == core::Expect::Holds ? "holds" : "violated");
      c["passed"] = r.passed();
      j["checks"].push_back(c);
    }
    fmt::print("{}\n", j.dump(2));
  } else {
    fmt::print("verify: {} checks, {} as stated, {} not, {} unknown\n", runs.size(),
               runs.size() - static_cast<std::size_t>(failed + unknown), failed, unknown);
  }
  if (!o.junit.empty()) {
    std::ofstream x(o.junit);
    x << fmt::format("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite name=\"batchproof verify\" tests=\"{}\" failures=\"{}\" skipped=\"{}\">\n",
                     runs.size(), failed, unknown);
    for (const auto& r : runs) {
      x << fmt::format("  <testcase classname=\"{}\" name=\"{}\" time=\"{:.3f}\">", xml_escaped(r.file), xml_escaped(r.name),
                       r.result.seconds);
      if (r.code == kUnknown) x << fmt::format("<skipped message=\"{}\"/>", xml_escaped(line_of(r)));
      else if (!r.passed()) x << fmt::format("<failure message=\"{}\"/>", xml_escaped(line_of(r)));
      x << "</testcase>\n";
    }
    x << "</testsuite>\n";
    if (!x) {
      fmt::print(stderr, "batchproof verify: error: cannot write '{}'\n", o.junit);
      code = worst(code, kBadInput);
    }
  }
  return code;
}

}  // namespace

void add_verify_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<VerifyOptions>();
  CLI::App* cmd = app.add_subcommand("verify", "Run every check declared in the files (the CI entry point)");
  cmd->add_option("files", o->files, "spec files (.bp)")->required();
  cmd->add_option("--junit", o->junit, "write a JUnit XML report");
  cmd->add_option("--timeout", o->timeout_s, "seconds for each solver query, unless a check says (default 60)");
  cmd->add_flag("--json", o->json, "one JSON document on stdout");
  cmd->callback([o, &exit_code] { exit_code = run_verify(*o); });
}

}  // namespace batchproof::cli
