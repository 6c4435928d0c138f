// Helpers for the audit tests: records built field by field, engines written in the language,
// and a run of records (or a batchproof trace) through the auditor.
#pragma once

#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "core/source.hpp"
#include "dsl/dsl.hpp"
#include "traces/audit_run.hpp"
#include "traces/auditor.hpp"

namespace batchproof::traces::testing {

// An aggregate record, as the readers of TensorRT-LLM's IterationStats fill it.
inline Iteration aggregate(std::int64_t line, std::int64_t index, double start_s, std::int64_t prefill,
                           std::int64_t decode) {
  Iteration r;
  r.line = line;
  r.index = index;
  r.start_s = start_s;
  r.duration_s = 0.01;
  r.prefill_tokens = prefill;
  r.decode_tokens = decode;
  r.prefill_requests = prefill > 0 ? 1 : 0;
  r.decode_requests = decode;
  return r;
}

inline AuditReport audit_records(Format format, const std::vector<Iteration>& records, AuditLimits limits = {},
                                 const core::Engine* engine = nullptr) {
  AuditSetup setup;
  setup.format = format;
  setup.limits = std::move(limits);
  setup.spec_engine = engine;
  setup.spec_label = engine ? "engine " + engine->name + " of test.bp" : "";
  Auditor auditor(std::move(setup));
  for (const auto& r : records) auditor.add(r, "log");
  return auditor.finish(0);
}

inline AuditReport audit_trace(const std::string& text, const AuditOptions& options = {}) {
  std::istringstream in(text);
  core::Diagnostics diags;
  auto out = audit_own_trace(in, "trace.jsonl", options, diags);
  INFO((diags.all().empty() ? std::string() : core::render(diags.all().front())));
  REQUIRE(out.report);
  return *out.report;
}

// The spec in `text` (imports relative to the tests' folder); fails the test on a bad spec.
inline core::Spec spec_of(const std::string& text) {
  core::Diagnostics diags;
  auto spec = dsl::load_spec_text(std::string(BATCHPROOF_SOURCE_DIR) + "/tests/traces/spec.bp", text, diags);
  INFO((diags.all().empty() ? std::string() : core::render(diags.all().front())));
  REQUIRE(spec);
  return *spec;
}

inline std::vector<std::string> messages(const AuditReport& report, CheckKind kind) {
  std::vector<std::string> out;
  for (const auto& f : report.violations)
    if (f.kind == kind) out.push_back(f.message);
  return out;
}

inline std::vector<std::string> note_messages(const AuditReport& report, CheckKind kind) {
  std::vector<std::string> out;
  for (const auto& f : report.notes)
    if (f.kind == kind) out.push_back(f.message);
  return out;
}

// examples/paper_policies.bp, loaded once.
inline const core::Spec& paper_policies() {
  static const core::Spec spec = [] {
    core::Diagnostics diags;
    auto s = dsl::load_spec(std::string(BATCHPROOF_SOURCE_DIR) + "/examples/paper_policies.bp", diags);
    REQUIRE(s);
    return *s;
  }();
  return spec;
}

}  // namespace batchproof::traces::testing
