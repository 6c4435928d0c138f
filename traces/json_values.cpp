#include "traces/json_values.hpp"

#include "core/line_diagnostics.hpp"

namespace batchproof::traces::json {

std::string shown(element v) {
  std::string text = simdjson::minify(v);
  return core::printable(text);
}

std::string_view padded(std::string_view text, bool text_padded, std::vector<char>& scratch) {
  if (text_padded) return text;
  scratch.assign(text.begin(), text.end());
  scratch.resize(text.size() + simdjson::SIMDJSON_PADDING, '\0');
  return {scratch.data(), text.size()};
}

std::size_t member_offset(std::string_view text, std::string_view key, std::size_t from) {
  std::size_t at = from;
  while (at < text.size()) {
    const std::size_t q = text.find(key, at);
    if (q == std::string_view::npos) break;
    const std::size_t after = q + key.size();
    if (q > 0 && text[q - 1] == '"' && after < text.size() && text[after] == '"') {
      std::size_t i = after + 1;
      while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n')) ++i;
      if (i < text.size() && text[i] == ':') {
        ++i;
        while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n')) ++i;
        return i;
      }
    }
    at = after;
  }
  return from;
}

}  // namespace batchproof::traces::json
