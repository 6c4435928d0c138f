#include "cli/proof_report.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "cli/exit_codes.hpp"
#include "cli/text_table.hpp"

namespace batchproof::cli {

std::string verdict_word(solver::Verdict v) {
  switch (v) {
    case solver::Verdict::Holds: return "holds";
    case solver::Verdict::Violated: return "violated";
    case solver::Verdict::Unknown: return "unknown";
    case solver::Verdict::InternalError: return "internal error";
  }
  return "unknown";
}

int exit_code_of(solver::Verdict v) {
  switch (v) {
    case solver::Verdict::Holds: return kHolds;
    case solver::Verdict::Violated: return kViolated;
    case solver::Verdict::Unknown: return kUnknown;
    case solver::Verdict::InternalError: return kInternal;
  }
  return kUnknown;
}

namespace {
const char* phase(const core::Request& r, bool waiting) {
  if (waiting) return "waiting";
  return r.prompt_done() ? "decoding" : "started";
}
std::string batch_text(const core::Batch& b) {
  std::string out;
  for (const auto& i : b.items) {
    if (!out.empty()) out.push_back(' ');
    out.append(i.decode ? fmt::format("{}:decode", i.request) : fmt::format("{}:{}", i.request, i.prefill));
  }
  return out.empty() ? "(empty)" : out;
}
}  // namespace

std::string counterexample_text(const core::Engine& e, const solver::Counterexample& cx) {
  TableRows rows{{"request", "phase", "prompt", "prefilled", "output", "decoded"}};
  auto add = [&](const core::Request& r, bool waiting) {
    rows.push_back({std::to_string(r.id), phase(r, waiting), std::to_string(r.prompt), std::to_string(r.prefilled),
                    std::to_string(r.output), std::to_string(r.decoded)});
  };
  // In queue order: request ids are queue positions (running ones are admitted, waiting ones not).
  std::vector<std::pair<const core::Request*, bool>> all;
  for (const auto& r : cx.state.running) all.emplace_back(&r, false);
  for (const auto& r : cx.state.waiting) all.emplace_back(&r, true);
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.first->id < b.first->id; });
  for (const auto& [r, waiting] : all) add(*r, waiting);
  std::string out = render_table(rows, "    ");
  out += fmt::format("    batch: {} ({} token{}{})\n", batch_text(cx.batch), cx.batch.tokens, cx.batch.tokens == 1 ? "" : "s",
                     e.token_budget ? fmt::format(" of a budget of {}", *e.token_budget) : "");
  if (!cx.witness.empty()) out += "    " + cx.witness + "\n";
  return out;
}

std::string holds_scope(const solver::ProofResult& r) {
  if (r.scope == solver::Scope::AllN)
    return r.by_lemma ? std::string(" for every number of requests (inductive lemma, checked once for all N)")
               : ": " + r.reason;
  std::string out = fmt::format(" for every state of up to {} requests (bounded", r.requests);
  if (!r.lemma_note.empty()) out.append("; the inductive lemma did not prove it: ").append(r.lemma_note);
  out.append(")");
  return out;
}

nlohmann::json proof_json(const solver::ProofResult& r) {
  // `requests`: the N a bounded verdict is for, or the counterexample's size; null for "all N".
  nlohmann::json n = r.counterexample ? nlohmann::json(r.counterexample->state.running.size() +
                                                       r.counterexample->state.waiting.size())
                     : r.verdict == solver::Verdict::Holds && r.scope == solver::Scope::AllN ? nlohmann::json(nullptr)
                                                                                              : nlohmann::json(r.requests);
  nlohmann::json j{{"verdict", verdict_word(r.verdict)}, {"requests", n}, {"seconds", r.seconds}};
  if (!r.reason.empty()) j["reason"] = r.reason;
  // For which N the verdict holds: "all" (the inductive lemma, or trivially) or "up_to_n"; a
  // violation holds for every N from the counterexample's number of requests on.
  if (r.verdict == solver::Verdict::Holds) {
    j["scope"] = r.scope == solver::Scope::AllN ? "all" : "up_to_n";
    j["method"] = r.scope == solver::Scope::AllN ? (r.by_lemma ? "inductive_lemma" : "trivial")
                                                 : "bounded";
  } else if (r.verdict == solver::Verdict::Violated && r.counterexample) {
    j["scope"] = "from_n";
    j["method"] = "counterexample";
  }
  if (!r.lemma_note.empty()) j["lemma_note"] = r.lemma_note;
  if (r.counterexample) {
    nlohmann::json reqs = nlohmann::json::array();
    auto add = [&](const core::Request& q, bool waiting) {
      reqs.push_back({{"id", q.id},
                      {"phase", phase(q, waiting)},
                      {"prompt", q.prompt},
                      {"prefilled", q.prefilled},
                      {"output", q.output},
                      {"decoded", q.decoded}});
    };
    for (const auto& q : r.counterexample->state.running) add(q, false);
    for (const auto& q : r.counterexample->state.waiting) add(q, true);
    nlohmann::json items = nlohmann::json::array();
    for (const auto& i : r.counterexample->batch.items)
      items.push_back({{"id", i.request}, {"prefill", i.prefill}, {"decode", i.decode}});
    j["counterexample"] = {{"requests", reqs},
                           {"batch", items},
                           {"iterations_since_prefill", r.counterexample->state.iterations_since_prefill},
                           {"witness", r.counterexample->witness}};
  } else {
    j["counterexample"] = nullptr;
  }
  return j;
}

}  // namespace batchproof::cli
