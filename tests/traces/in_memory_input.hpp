// An Input over bytes in memory, for the text readers' tests: lines split as Input::open's
// are (without "\n" or "\r\n"), and a read error that can be staged at the end.
#pragma once

#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "traces/reader.hpp"

namespace batchproof::traces::testing {

class InMemoryInput final : public Input {
 public:
  InMemoryInput(std::string path, std::string bytes, std::optional<std::string> error = std::nullopt)
      : Input(std::move(path)), bytes_(std::move(bytes)), error_(std::move(error)) {}

  std::string_view head() override { return std::string_view(bytes_).substr(0, 64 * 1024); }

  bool next_line(std::string_view& line) override {
    if (at_ >= bytes_.size()) return false;
    std::size_t end = bytes_.find('\n', at_);
    if (end == std::string::npos) end = bytes_.size();
    line = std::string_view(bytes_).substr(at_, end - at_);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    at_ = end + 1;
    ++line_;
    return true;
  }

  std::int64_t line_number() const override { return line_; }
  std::optional<std::string> error() const override { return at_ >= bytes_.size() ? error_ : std::nullopt; }

 private:
  std::string bytes_;
  std::optional<std::string> error_;
  std::size_t at_ = 0;
  std::int64_t line_ = 0;
};

inline std::unique_ptr<Input> memory_input(std::string path, std::string bytes,
                                           std::optional<std::string> error = std::nullopt) {
  return std::make_unique<InMemoryInput>(std::move(path), std::move(bytes), std::move(error));
}

// A file of tests/traces/data, read whole, named as the tests name it.
inline std::unique_ptr<Input> data_file(const std::string& name) {
  const std::string path = std::string(BATCHPROOF_SOURCE_DIR) + "/tests/traces/data/" + name;
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return memory_input("tests/traces/data/" + name, bytes.str());
}

// Every record of a reader, in order.
template <typename Reader>
std::vector<Iteration> read_all(Reader& reader) {
  std::vector<Iteration> out;
  Iteration r;
  while (reader.next(r)) out.push_back(r);
  return out;
}

// "line:col: message" of every diagnostic.
inline std::vector<std::string> located(const RecordReader& reader) {
  std::vector<std::string> out;
  for (const auto& d : reader.diagnostics().all())
    out.push_back(std::to_string(d.loc.line) + ":" + std::to_string(d.loc.col) + ": " + d.message);
  return out;
}

// The diagnostics rendered, one after another.
inline std::string rendered(const RecordReader& reader) {
  std::string out;
  for (const auto& d : reader.diagnostics().all()) out += core::render(d);
  return out;
}

}  // namespace batchproof::traces::testing
