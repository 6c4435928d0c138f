// no_instability(network) load <= R period L: the network search (cli/network_witness.hpp) at
// load R. `period` does not apply to networks (a fluid cycle has phases, not iterations; the
// search tries 1..6 phases): docs/search.md "Networks". "Holds" says which kind of evidence it
// is (the feed-forward theorem, or no fluid cycle in a bounded search); a fluid cycle that the
// replay does not confirm is "unknown", never "violated".
#include "cli/check_runners.hpp"
#include "cli/network_witness.hpp"

namespace batchproof::cli {

solver::ProofResult network_instability_check(const core::Spec& spec, const core::Check& c, double default_timeout) {
  NetworkSearchOptions o;
  o.load = c.load.value_or(0.9);
  o.timeout_s = c.timeout_s.value_or(default_timeout);
  solver::ProofResult r;
  const core::Network* n = spec.find_network(c.engine);
  if (!n) {
    r.verdict = solver::Verdict::Unknown;
    r.reason = "no such network";
    return r;
  }
  NetworkSearchResult nr = search_network(spec, *n, o);
  r.seconds = nr.seconds;
  r.reason = nr.reason;
  switch (nr.verdict) {
    case NetworkVerdict::Witness: r.verdict = solver::Verdict::Violated; break;
    case NetworkVerdict::NoCycle:
    case NetworkVerdict::Stable: r.verdict = solver::Verdict::Holds; break;
    case NetworkVerdict::NotConfirmed:
    case NetworkVerdict::Unknown: r.verdict = solver::Verdict::Unknown; break;
  }
  return r;
}

}  // namespace batchproof::cli
