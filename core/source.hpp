// Source locations and diagnostics: the one way every library reports bad input.
// Libraries collect diagnostics; only cli/ prints them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace batchproof::core {

// A position in a named input. line and col are 1-based; col counts bytes.
struct SourceLoc {
  std::string file;
  int line = 0;
  int col = 0;
  bool known() const { return line > 0; }
};

enum class Severity { Error, Warning, Note };

struct Diagnostic {
  Severity severity = Severity::Error;
  SourceLoc loc;
  std::string message;
  std::string source_line;  // the text of loc.line, for the caret display (may be empty)
};

// Renders "file:line:col: error: message", then the source line and a caret under col.
// Non-printable bytes of the source line are shown as '?', so junk input stays readable.
std::string render(const Diagnostic& d);

class Diagnostics {
 public:
  void add(Diagnostic d);
  void error(SourceLoc loc, std::string message, std::string source_line = {});
  void warning(SourceLoc loc, std::string message, std::string source_line = {});

  bool has_errors() const { return errors_ > 0; }
  int error_count() const { return errors_; }
  const std::vector<Diagnostic>& all() const { return items_; }
  // Sorted by file, line, column, with exact duplicates removed.
  std::vector<Diagnostic> sorted() const;

 private:
  std::vector<Diagnostic> items_;
  int errors_ = 0;
};

// The length of the valid UTF-8 sequence that starts at text[i], or 0 if the bytes there are
// not one (a stray continuation byte, a truncated or overlong lead).
std::size_t utf8_length(const std::string& text, std::size_t i);

// The closest candidate to `name` by edit distance, or "" if none is close enough
// to be a plausible misspelling. Used for every "did you mean" hint.
std::string closest_match(std::string_view name, const std::vector<std::string>& candidates);
// " (did you mean 'x'?)" or "".
std::string did_you_mean(std::string_view name, const std::vector<std::string>& candidates);

}  // namespace batchproof::core
