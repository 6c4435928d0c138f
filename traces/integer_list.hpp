// A JSON array of whole numbers as a writer prints it ("[12, 13, 448]" from Python's
// json.dump, "[12,13,448]" from core's writer), read sixty-four bytes at a time (internal to
// traces/): the readers' fast paths spend most of their time in such lists (a Vidur batch
// lists its request ids twice and its token counts once).
//
// Read one number after another, each number's end is where the next one starts to be read,
// and the whole list is one chain of dependent steps. Here the bytes are classified first
// (digit, comma, space: bit masks, SSE2 where there is SSE2), the list's form is checked on
// the masks, and every number's start comes from them, so that the numbers are read
// independently of each other.
#pragma once

#include <cstdint>
#include <vector>

namespace batchproof::traces::canonical {

enum class ListSeparator { Comma, CommaSpace };  // "," or ", "

// The list at `p` ('[' first) if it is non-negative whole numbers of at most 18 digits without
// leading zeros, exactly `sep` between them, nothing else up to the first ']': its numbers in
// `out` and the position after its ']'. nullptr (and `out` in any state) for anything else:
// not necessarily malformed (a negative number, a blank before a comma, a longer number), the
// caller then reads the list number by number.
const char* read_plain_integer_list(const char* p, const char* end, ListSeparator sep, std::vector<std::int64_t>& out);

}  // namespace batchproof::traces::canonical
