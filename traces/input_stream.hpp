// A std::istream over an Input (plain, gzip or stdin), line by line, for core's reader of
// batchproof traces: the auditor's full replay reads a .gz trace the same way as a plain one.
#pragma once

#include <istream>
#include <streambuf>
#include <string>

#include "traces/reader.hpp"

namespace batchproof::traces {

class InputStreambuf final : public std::streambuf {
 public:
  explicit InputStreambuf(Input& input) : input_(input) {}

 protected:
  int_type underflow() override;

 private:
  Input& input_;
  std::string line_;  // the current line with its '\n' (none when the input ends without one)
};

class InputStream final : public std::istream {
 public:
  explicit InputStream(Input& input) : std::istream(nullptr), buf_(input) { rdbuf(&buf_); }

 private:
  InputStreambuf buf_;
};

}  // namespace batchproof::traces
