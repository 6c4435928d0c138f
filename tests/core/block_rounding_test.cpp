// KV is held in whole blocks: core::round_up_to_block rounds up by a mask for a power-of-two
// block and by division otherwise; both give the division's result on every count the step
// and the replay round (zero and up), and no rounding at all for a block of one token.
#include <catch2/catch.hpp>

#include <cstdint>

#include "core/engine.hpp"

using batchproof::core::round_up_to_block;

TEST_CASE("block rounding: whole blocks, by mask or by division, the same", "[core][kv]") {
  CHECK(round_up_to_block(0, 16) == 0);
  CHECK(round_up_to_block(1, 16) == 16);
  CHECK(round_up_to_block(16, 16) == 16);
  CHECK(round_up_to_block(17, 16) == 32);
  CHECK(round_up_to_block(17, 12) == 24);  // not a power of two: by division
  CHECK(round_up_to_block(17, 1) == 17);   // no blocks
  CHECK(round_up_to_block(17, 0) == 17);
  for (std::int64_t block : {2, 3, 12, 16, 32, 48, 64, 256}) {
    for (std::int64_t tokens = -3 * block; tokens <= 5 * block; ++tokens) {
      INFO(tokens << " tokens in blocks of " << block);
      CHECK(round_up_to_block(tokens, block) == (tokens + block - 1) / block * block);
    }
  }
}
