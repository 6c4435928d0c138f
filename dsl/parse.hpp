// Parsing one .bp file into its syntax tree, with positions and comments.
// Internal to dsl/ (the tree types include Spirit X3's variant).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "core/source.hpp"
#include "dsl/ast.hpp"

namespace batchproof::dsl {

struct Comment {
  int line = 0;
  int end_line = 0;
  int col = 0;
  std::size_t offset = 0;  // byte offset of the comment's start
  std::string text;       // including the // or /* */ markers
  bool own_line = false;  // nothing but blanks before it on its line
};

// The text of one file, with the map from byte offsets to lines and columns.
class SourceText {
 public:
  SourceText(std::string path, std::string text);
  const std::string& path() const { return path_; }
  const std::string& text() const { return text_; }
  core::SourceLoc loc_at(std::size_t offset) const;
  std::string line_text(int line) const;
  int line_count() const { return static_cast<int>(line_starts_.size()); }

 private:
  std::string path_;
  std::string text_;
  std::vector<std::size_t> line_starts_;
};

struct ParsedFile {
  std::shared_ptr<const SourceText> source;
  ast::File file;
  std::vector<Comment> comments;
  // Byte offsets of annotated nodes: node [positions[id_first], positions[id_last]).
  std::vector<std::size_t> positions;

  bool has_span(const ast::Tagged& node) const;
  core::SourceLoc loc(const ast::Tagged& node) const;  // where the node starts
  int first_line(const ast::Tagged& node) const;
  int last_line(const ast::Tagged& node) const;
  std::size_t end_offset(const ast::Tagged& node) const;
  std::string line_text(int line) const { return source->line_text(line); }
};

// Parses `text` (named `path` in diagnostics). Syntax errors go to `diags`; after an error the
// parser resumes at the next top-level declaration, so one run reports several. Returns false
// when any syntax error was found (out still holds the declarations that parsed).
bool parse_text(const std::string& path, std::string text, ParsedFile& out, core::Diagnostics& diags);

// Words the language reserves: never units, never policy rule words.
const std::vector<std::string>& keywords();
// The top-level declaration keywords, for "did you mean".
const std::vector<std::string>& declaration_keywords();

}  // namespace batchproof::dsl
