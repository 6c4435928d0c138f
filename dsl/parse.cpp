// The parse driver: a pre-scan (comments, unterminated strings and comments, nesting depth),
// then the X3 grammar one top-level declaration at a time, resuming after a syntax error at the
// next line that starts with a declaration keyword.
#include "dsl/parse.hpp"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "dsl/grammar_def.hpp"

namespace batchproof::dsl {

namespace {

constexpr int kMaxNesting = 64;

bool is_id_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// What the parser found at an error position, for "expected X, found Y".
std::string describe_found(const std::string& text, std::size_t at) {
  if (at >= text.size()) return "end of file";
  unsigned char c = static_cast<unsigned char>(text[at]);
  if (is_id_char(text[at])) {
    std::size_t end = at;
    while (end < text.size() && is_id_char(text[end]) && end - at < 40) ++end;
    return fmt::format("'{}'", text.substr(at, end - at));
  }
  if (c == '\n' || c == '\r') return "end of line";
  if (c < 0x20 || c >= 0x7f) return fmt::format("byte 0x{:02x}", c);
  return fmt::format("'{}'", text[at]);
}

// Pre-scan: collects comments, and rejects what would make the grammar misbehave (an
// unterminated comment or string, nesting deeper than kMaxNesting). Returns false on error.
// A spec is UTF-8 text: control bytes other than tab and line breaks, and invalid UTF-8,
// mean the file is something else (a binary, a compressed file).
bool is_text(const SourceText& src, core::Diagnostics& diags) {
  const std::string& t = src.text();
  for (std::size_t i = 0; i < t.size();) {
    unsigned char c = static_cast<unsigned char>(t[i]);
    std::size_t n = core::utf8_length(t, i);
    if (n == 0 || (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f) {
      auto loc = src.loc_at(i);
      diags.error(loc, fmt::format("not a text file: unexpected byte 0x{:02x} (a spec is UTF-8 text)", c),
                  src.line_text(loc.line));
      return false;
    }
    i += n;
  }
  return true;
}

bool prescan(const SourceText& src, std::vector<Comment>& comments, core::Diagnostics& diags) {
  const std::string& t = src.text();
  if (!is_text(src, diags)) return false;
  std::vector<std::size_t> open;  // offsets of the braces and parentheses not yet closed
  bool line_has_code = false;
  for (std::size_t i = 0; i < t.size(); ++i) {
    char c = t[i];
    if (c == '\n') {
      line_has_code = false;
      continue;
    }
    if (c == '/' && i + 1 < t.size() && (t[i + 1] == '/' || t[i + 1] == '*')) {
      std::size_t start = i;
      bool block = t[i + 1] == '*';
      std::size_t end;
      if (block) {
        std::size_t close = t.find("*/", i + 2);
        if (close == std::string::npos) {
          auto loc = src.loc_at(start);
          diags.error(loc, "unterminated comment: '/*' has no matching '*/'", src.line_text(loc.line));
          return false;
        }
        end = close + 2;
      } else {
        end = t.find('\n', i);
        if (end == std::string::npos) end = t.size();
        while (end > start && t[end - 1] == '\r') --end;
      }
      auto loc = src.loc_at(start);
      comments.push_back({loc.line, src.loc_at(end == 0 ? 0 : end - 1).line, loc.col, start,
                          t.substr(start, end - start), !line_has_code});
      i = end - 1;
      continue;
    }
    if (c == '"') {
      std::size_t j = i + 1;
      while (j < t.size() && t[j] != '"' && t[j] != '\n') j += (t[j] == '\\' && j + 1 < t.size()) ? 2 : 1;
      if (j >= t.size() || t[j] != '"') {
        auto loc = src.loc_at(i);
        diags.error(loc, "unterminated string: '\"' has no closing '\"' on its line", src.line_text(loc.line));
        return false;
      }
      i = j;
      line_has_code = true;
      continue;
    }
    if (!std::isspace(static_cast<unsigned char>(c))) line_has_code = true;
    if (c == '{' || c == '(') {
      open.push_back(i);
      if (open.size() > static_cast<std::size_t>(kMaxNesting)) {
        auto loc = src.loc_at(i);
        diags.error(loc, fmt::format("nesting too deep: more than {} levels of braces and parentheses", kMaxNesting),
                    src.line_text(loc.line));
        return false;
      }
    } else if ((c == '}' || c == ')') && !open.empty() && t[open.back()] == (c == '}' ? '{' : '(')) {
      open.pop_back();  // a stray closer is left to the grammar, which says what it expected there
    }
  }
  if (!open.empty()) {
    auto loc = src.loc_at(open.back());
    bool brace = t[open.back()] == '{';
    diags.error(loc,
                brace ? "unclosed block: '{' has no matching '}'" : "unclosed parenthesis: '(' has no matching ')'",
                src.line_text(loc.line));
    return false;
  }
  return true;
}

// Where to report "found end of file": just after the last character that is not a blank
// (comments count as text here: the report stays on a line that exists).
core::SourceLoc just_after_last_token(const SourceText& src, std::string::const_iterator where) {
  const std::string& t = src.text();
  std::size_t at = static_cast<std::size_t>(where - t.cbegin());
  while (at > 0 && std::isspace(static_cast<unsigned char>(t[at - 1]))) --at;
  if (at == 0) return src.loc_at(0);
  auto loc = src.loc_at(at - 1);
  loc.col += 1;
  return loc;
}

// The offset of the next line (after `from`) that starts, in column 1, with a declaration
// keyword; the end of the text if none.
std::size_t next_declaration(const std::string& t, std::size_t from) {
  std::size_t pos = t.find('\n', from);
  while (pos != std::string::npos) {
    std::size_t line = pos + 1;
    for (const auto& k : declaration_keywords()) {
      if (t.compare(line, k.size(), k) == 0 && (line + k.size() >= t.size() || !is_id_char(t[line + k.size()])))
        return line;
    }
    pos = t.find('\n', line);
  }
  return t.size();
}

}  // namespace

SourceText::SourceText(std::string path, std::string text) : path_(std::move(path)), text_(std::move(text)) {
  line_starts_.push_back(0);
  for (std::size_t i = 0; i < text_.size(); ++i)
    if (text_[i] == '\n') line_starts_.push_back(i + 1);
}

core::SourceLoc SourceText::loc_at(std::size_t offset) const {
  offset = std::min(offset, text_.size());
  auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
  std::size_t line = static_cast<std::size_t>(it - line_starts_.begin());  // 1-based
  std::size_t col = offset - line_starts_[line - 1] + 1;
  return {path_, static_cast<int>(line), static_cast<int>(col)};
}

std::string SourceText::line_text(int line) const {
  if (line < 1 || line > line_count()) return "";
  std::size_t start = line_starts_[static_cast<std::size_t>(line - 1)];
  std::size_t end = text_.find('\n', start);
  if (end == std::string::npos) end = text_.size();
  while (end > start && text_[end - 1] == '\r') --end;
  return text_.substr(start, end - start);
}

bool ParsedFile::has_span(const ast::Tagged& node) const {
  return node.id_first >= 0 && node.id_last >= 0 && static_cast<std::size_t>(node.id_last) < positions.size();
}

core::SourceLoc ParsedFile::loc(const ast::Tagged& node) const {
  if (!has_span(node)) return {source->path(), 0, 0};
  return source->loc_at(positions[static_cast<std::size_t>(node.id_first)]);
}

int ParsedFile::first_line(const ast::Tagged& node) const { return loc(node).line; }

std::size_t ParsedFile::end_offset(const ast::Tagged& node) const {
  return has_span(node) ? positions[static_cast<std::size_t>(node.id_last)] : 0;
}

int ParsedFile::last_line(const ast::Tagged& node) const {
  if (!has_span(node)) return 0;
  std::size_t end = positions[static_cast<std::size_t>(node.id_last)];
  return source->loc_at(end == 0 ? 0 : end - 1).line;
}

const std::vector<std::string>& keywords() { return grammar::kReservedWords; }

const std::vector<std::string>& declaration_keywords() {
  static const std::vector<std::string> words{"import", "profile", "policy", "engine", "workload", "network", "check"};
  return words;
}

bool parse_text(const std::string& path, std::string text, ParsedFile& out, core::Diagnostics& diags) {
  namespace x3 = boost::spirit::x3;
  out.source = std::make_shared<SourceText>(path, std::move(text));
  const SourceText& src = *out.source;
  if (!prescan(src, out.comments, diags)) return false;

  const std::string& t = src.text();
  grammar::PositionCache cache{t.cbegin(), t.cend()};
  auto parser = x3::with<grammar::position_cache_tag>(std::ref(cache))[grammar::item];
  const int errors_before = diags.error_count();

  auto it = t.cbegin();
  const auto end = t.cend();
  for (;;) {
    x3::skip_over(it, end, x3::make_context<x3::skipper_tag>(grammar::skipper));
    if (it == end) break;
    ast::Item item;
    auto start = it;
    try {
      if (x3::phrase_parse(it, end, parser, grammar::skipper, item)) {
        out.file.items.push_back(std::move(item));
        continue;
      }
      // Nothing matched: not a declaration keyword here.
      auto at = static_cast<std::size_t>(start - t.cbegin());
      std::size_t word_end = at;
      while (word_end < t.size() && is_id_char(t[word_end])) ++word_end;
      std::string word = t.substr(at, word_end - at);
      auto loc = src.loc_at(at);
      diags.error(loc,
                  fmt::format("expected a declaration (import, profile, policy, engine, workload, network, check), "
                              "found {}{}",
                              describe_found(t, at), core::did_you_mean(word, declaration_keywords())),
                  src.line_text(loc.line));
      it = t.cbegin() + static_cast<std::ptrdiff_t>(next_declaration(t, at));
    } catch (const x3::expectation_failure<grammar::Iterator>& e) {
      auto at = static_cast<std::size_t>(e.where() - t.cbegin());
      // Report where the unexpected token starts, not at the blanks before it.
      auto where = e.where();
      x3::skip_over(where, end, x3::make_context<x3::skipper_tag>(grammar::skipper));
      at = static_cast<std::size_t>(where - t.cbegin());
      auto loc = src.loc_at(at);
      if (at >= t.size()) loc = just_after_last_token(src, e.where());
      // Rules carry readable names; an unnamed parser would print a mangled type name.
      std::string what = e.which();
      if (what.find("boost") != std::string::npos) what = "something else";
      diags.error(loc, fmt::format("expected {}, found {}", what, describe_found(t, at)), src.line_text(loc.line));
      it = t.cbegin() + static_cast<std::ptrdiff_t>(next_declaration(t, at));
    }
  }

  out.positions.reserve(cache.get_positions().size());
  for (const auto& pos : cache.get_positions()) out.positions.push_back(static_cast<std::size_t>(pos - t.cbegin()));
  return diags.error_count() == errors_before;
}

}  // namespace batchproof::dsl
