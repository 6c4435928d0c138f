// `search --engine` on the command line: the verdict line, the witness's least burst, the
// (σ, ρ) envelope option and its bad values (docs/search.md).
#include <cstdlib>

#include <catch2/catch.hpp>

#include "run_binary.hpp"

using batchproof::test::run_batchproof;

namespace {
// The number after `marker` on the line that holds it.
double number_after(const std::string& out, const std::string& marker) {
  std::size_t p = out.find(marker);
  REQUIRE(p != std::string::npos);
  return std::strtod(out.c_str() + p + marker.size(), nullptr);
}
}  // namespace

TEST_CASE("search: a witness inside the sigma envelope, with the burst it needs", "[cli][search]") {
  auto r = run_batchproof(
      "search examples/paper_policies.bp --engine vllm_vanilla --workload chat --period 1 --sigma 150");
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("periods 1) at load <= 0.9 within sigma 150 tokens on every window: witness found, period 1 [") !=
        std::string::npos);
  double burst = number_after(r.out, "the arrivals need a burst of sigma >= ");
  CHECK(burst > 0);
  CHECK(burst <= 150);
  CHECK(r.out.find("replay (core step, 100 periods): every period forms the first period's batches") !=
        std::string::npos);
  CHECK(r.out.find("linear growth, as replayed") != std::string::npos);
}

TEST_CASE("search: sigma must be a positive number of tokens", "[cli][search]") {
  auto r = run_batchproof("search examples/paper_policies.bp --engine vllm_vanilla --workload chat --sigma 0");
  CHECK(r.exit_code == 3);
  CHECK(r.err == "batchproof search: error: --sigma must be at least 1 token\n");
}
