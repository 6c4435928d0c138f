#include "core/policy.hpp"

namespace batchproof::core {

namespace {
void visit(const std::vector<PolicyStmt>& body, PolicyTraits& t) {
  for (const auto& s : body) {
    if (s.rule) {
      const Rule& r = *s.rule;
      if (r.phase == Phase::Decode) t.any_decode = true;
      if (r.phase == Phase::Prefill) {
        t.any_prefill = true;
        if (r.grain == Grain::Chunk) t.chunks_prefill = true;
      }
    }
    for (const auto& w : s.when) {
      for (const auto& b : w.branches) visit(b.body, t);
      visit(w.otherwise, t);
    }
  }
}
}  // namespace

PolicyTraits traits(const Policy& p) {
  PolicyTraits t;
  visit(p.body, t);
  t.whole_only = t.any_prefill && !t.chunks_prefill;
  return t;
}

}  // namespace batchproof::core
