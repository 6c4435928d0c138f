// `search --network` and `verify` of no_instability(network) (docs/search.md "Networks"), and
// the k_max report of `check` and `search` (core/kmax_bound.hpp), line by line.
#include <catch2/catch.hpp>

#include "run_binary.hpp"

using batchproof::test::run_batchproof;

namespace {
// The output with every "[1.23 s]" timing removed.
std::string untimed(std::string s) {
  for (std::size_t p = s.find(" ["); p != std::string::npos; p = s.find(" [", p + 1)) {
    std::size_t q = s.find(" s]", p);
    if (q == std::string::npos) break;
    if (s.find('\n', p) < q) continue;
    s.erase(p, q + 3 - p);
  }
  return s;
}
bool has(const std::string& out, const std::string& line) { return out.find(line) != std::string::npos; }
}  // namespace

TEST_CASE("search --network: exit-first Rybko-Stolyar has a fluid cycle that the replay confirms", "[cli][search]") {
  auto r = run_batchproof("search examples/rybko_stolyar.bp --network rs_exit_first");
  CHECK(r.exit_code == 1);
  std::string out = untimed(r.out);
  CHECK(has(out, "search network rs_exit_first at load <= 0.9 (fluid cycle): witness found\n"
                 "  fluid cycle of 4 phases at load 0.900, growth x29.614 a cycle; one cycle replayed: 8364 -> "));
  CHECK(has(out, "station loads (class rates x 1.0861)\n"
                 "  station  engine     replicas  offered tok/s  capacity tok/s  load\n"
                 "  e1       rs_engine  1         3008.6         3342.9          0.900\n"
                 "  e2       rs_engine  1         3008.6         3342.9          0.900\n"));
  CHECK(has(out, "  A@e1 (hop 1)  e1       68.0        184.6           1\n"));
  CHECK(has(out, "  A@e2 (hop 2)  e2       1040.0      0.0             0\n"));
  CHECK(has(out, "no cycle of 1,2,3 phases\n"));
  CHECK(has(out, "fluid cycle: 4 phases over 1 s (normalised), all fluid in B@e2 (hop 1): "));
  CHECK(has(out, "replay (simulator, every engine's own policy): 123 jobs in B@e2 (hop 1) at time 0 (8364 tokens)"));
  CHECK(has(out, "the growth is confirmed\n"));
  CHECK(has(out, "(simulate --network takes no arrivals file, so the replay's arrivals are not written out)\n"));
}

TEST_CASE("search --network: entry-first Rybko-Stolyar has no fluid cycle of up to 4 phases", "[cli][search]") {
  auto r = run_batchproof("search examples/rybko_stolyar.bp --network rs_entry_first --phases 4");
  CHECK(r.exit_code == 0);
  CHECK(has(untimed(r.out), "search network rs_entry_first at load <= 0.9 (fluid cycle): no witness\n"
                            "  no fluid cycle of 1..4 phases at load <= 0.9 (a bounded search, not a proof of stability)\n"));
  CHECK(has(r.out, "no cycle of 1,2,3,4 phases"));
}

TEST_CASE("verify: round robin has an adversary, join-the-shortest-queue and fork-join are stable by the theorems", "[cli][search]") {
  auto r = run_batchproof("verify examples/jsq_replicas.bp examples/fork_join.bp");
  CHECK(r.exit_code == 0);
  CHECK(untimed(r.out) ==
        "examples/jsq_replicas.bp: ok   jsq_stable: no_instability(chat_jsq) holds (feed-forward network, every station "
        "at load <= 0.900 < 1, every engine work-conserving (proved for every number of requests): stable by Dai et al.'s "
        "theorems (MODEL.md §3, §7)), as expected\n"
        "examples/jsq_replicas.bp: ok   rr_unstable: no_instability(chat_rr) violated (every 4th arrival long (248 + 1 "
        "tokens) at 170.7 req/s: station load 0.900, replica 0 at 3.179, replay grows), as expected\n"
        "examples/fork_join.bp: ok   fork_join_stable: no_instability(fork_join_agent) holds (feed-forward network, "
        "every station at load <= 0.900 < 1, every engine work-conserving (proved for every number of requests): stable by Dai "
        "et al.'s theorems (MODEL.md §3, §7)), as expected\n"
        "verify: 3 checks, 3 as stated, 0 not, 0 unknown\n");
}

TEST_CASE("search --network: the round-robin replay grows at the fluid rate", "[cli][search]") {
  auto r = run_batchproof("search examples/jsq_replicas.bp --network chat_rr");
  CHECK(r.exit_code == 1);
  CHECK(has(r.out, "round-robin adversary at pool: arrival k is long (248 + 1 tokens) when k mod 4 = 0, else short (10 "
                   "+ 1 tokens), 170.70 req/s: the station at load 0.900, replica 0 at 3.179 of 3342.9 tokens/s (fluid "
                   "growth 7283.3 tokens/s)\n"));
  CHECK(has(r.out, "; predicted 7283.3): grows, as predicted\n"));
}

TEST_CASE("search --network: bad command lines exit 3", "[cli][search]") {
  auto none = run_batchproof("search examples/rybko_stolyar.bp");
  CHECK(none.exit_code == 3);
  CHECK(none.err == "batchproof search: error: give --engine E (or --network N)\n");
  auto unknown = run_batchproof("search examples/rybko_stolyar.bp --network nope");
  CHECK(unknown.exit_code == 3);
  CHECK(unknown.err == "batchproof search: error: no network 'nope' in examples/rybko_stolyar.bp\n");
  auto load = run_batchproof("search examples/rybko_stolyar.bp --network rs_exit_first --load 1.2");
  CHECK(load.exit_code == 3);
  CHECK(load.err == "batchproof search: error: --load must be between 0 and 1 (a load below capacity)\n");
}

TEST_CASE("check and search: a load inside the compute capacity but outside what k_max lets through", "[cli][search]") {
  auto c = run_batchproof("check tests/cli/data/kmax_small.bp");
  CHECK(c.exit_code == 0);
  CHECK(has(c.out, "  tests/cli/data/kmax_small.bp:7:8: warning: engine 'capped' with workload 'steady': unstable "
                   "inside the compute capacity because of k_max: 5.000 req/s (load 0.254) is at or above the 3.960 "
                   "req/s that max_batch 16 lets through (each request needs 101.0 batch slots on average, at most "
                   "400.0 slots/s): every policy is unstable there (MODEL.md §3) [kmax_bound]\n"));
  auto s = run_batchproof("search tests/cli/data/kmax_small.bp --engine capped --workload steady --load 0.3 --period 1");
  CHECK(has(s.out, "k_max: max_batch 16 lets at most 3.960 req/s of workload steady through (101.0 batch slots a "
                   "request, at most 400.0 slots/s at 16 requests an iteration) = 792.1 tokens/s = load 0.2011 of the "
                   "compute capacity; at load 0.3 every policy is unstable inside the compute capacity because of "
                   "k_max\n"));
  auto cap = run_batchproof("capacity tests/cli/data/kmax_small.bp --requests 500 --seeds 1 --precision 0.1");
  CHECK(cap.exit_code == 0);
  CHECK(has(cap.out, "k_max bound: no policy completes more requests per second (docs/search.md)\n"
                     "  capped with steady: max_batch 16 lets at most 3.960 req/s through = 792.1 tokens/s; 5.000 req/s "
                     "is unstable inside the compute capacity because of k_max\n"));
}
