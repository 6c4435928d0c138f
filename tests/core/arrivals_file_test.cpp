#include "core/arrivals_file.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

using namespace batchproof::core;

namespace {

const std::string kData = std::string(BATCHPROOF_SOURCE_DIR) + "/data/";

// A file in the temp directory holding `content`, removed when the test is done.
class TempFile {
 public:
  TempFile(const std::string& name, const std::string& content) {
    path_ = (std::filesystem::temp_directory_path() /
             ("batchproof_arrivals_" + std::to_string(::getpid()) + "_" + name))
                .string();
    std::ofstream(path_, std::ios::binary) << content;
  }
  ~TempFile() { std::remove(path_.c_str()); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::vector<Arrival> read_ok(const std::string& path, TraceFormat format = TraceFormat::Auto) {
  Diagnostics diags;
  auto arrivals = read_arrivals(path, format, diags);
  for (const auto& d : diags.all()) UNSCOPED_INFO(render(d));
  REQUIRE(arrivals.has_value());
  REQUIRE_FALSE(diags.has_errors());
  return *arrivals;
}

// Reads a file that must fail, returning its diagnostics.
std::vector<Diagnostic> read_bad(const std::string& path, TraceFormat format = TraceFormat::Auto) {
  Diagnostics diags;
  auto arrivals = read_arrivals(path, format, diags);
  CHECK_FALSE(arrivals.has_value());
  CHECK(diags.has_errors());
  return diags.all();
}

std::vector<Diagnostic> read_bad_text(const std::string& name, const std::string& content,
                                      TraceFormat format = TraceFormat::Auto) {
  TempFile f(name, content);
  auto diags = read_bad(f.path(), format);
  for (const auto& d : diags) CHECK(d.loc.file == f.path());
  return diags;
}

void check_diag(const Diagnostic& d, int line, int col, const std::string& message) {
  INFO(render(d));
  CHECK(d.severity == Severity::Error);
  CHECK(d.loc.line == line);
  CHECK(d.loc.col == col);
  CHECK(d.message == message);
}

bool same_arrivals(const std::vector<Arrival>& a, const std::vector<Arrival>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const Arrival& x, const Arrival& y) {
    return x.time_s == y.time_s && x.prompt == y.prompt && x.output == y.output && x.cls == y.cls;
  });
}

}  // namespace

TEST_CASE("format names") {
  for (auto f : {TraceFormat::Auto, TraceFormat::Batchproof, TraceFormat::Azure, TraceFormat::Vidur,
                 TraceFormat::Mooncake})
    CHECK(format_from_name(format_name(f)) == f);
  CHECK(format_name(TraceFormat::Azure) == "azure");
  CHECK(format_name(TraceFormat::Mooncake) == "mooncake");
  CHECK_FALSE(format_from_name("Azure").has_value());
  CHECK_FALSE(format_from_name("csv").has_value());
  CHECK(format_names() == std::vector<std::string>{"auto", "batchproof", "azure", "vidur", "mooncake"});
}

TEST_CASE("Azure conversation trace") {
  const auto a = read_ok(kData + "azure_llm_2023_conv.csv", TraceFormat::Azure);
  REQUIRE(a.size() == 19366);
  CHECK(a[0].time_s == 0);
  CHECK(a[0].prompt == 374);
  CHECK(a[0].output == 44);
  CHECK(a[0].cls.empty());
  // 18:15:50.9951690 − 18:15:46.6805900, exact to the nanosecond.
  CHECK(a[1].time_s == 4.314579);
  CHECK(a[1].prompt == 396);
  CHECK(a[1].output == 109);
  // The last row has no line end: 19:14:08.4025270.
  CHECK(a.back().time_s == 3501.721937);
  CHECK(a.back().prompt == 197);
  CHECK(a.back().output == 183);
  CHECK(std::is_sorted(a.begin(), a.end(), [](const Arrival& x, const Arrival& y) { return x.time_s < y.time_s; }));
}

TEST_CASE("Azure code trace and Vidur's copy of it agree") {
  const auto azure = read_ok(kData + "azure_llm_2023_code.csv", TraceFormat::Azure);
  const auto vidur = read_ok(kData + "vidur_splitwise_code.csv", TraceFormat::Vidur);
  REQUIRE(azure.size() == 8819);
  REQUIRE(vidur.size() == 8819);
  CHECK(azure[0].time_s == 0);
  CHECK(azure[0].prompt == 4808);
  CHECK(azure[0].output == 10);
  CHECK(azure.back().time_s == 3435.948056);
  CHECK(azure.back().prompt == 549);
  CHECK(azure.back().output == 173);
  bool lengths_match = true;
  double worst_gap = 0;
  for (std::size_t i = 0; i < azure.size(); ++i) {
    lengths_match = lengths_match && azure[i].prompt == vidur[i].prompt && azure[i].output == vidur[i].output;
    worst_gap = std::max(worst_gap, std::abs(azure[i].time_s - vidur[i].time_s));
  }
  CHECK(lengths_match);
  CHECK(worst_gap <= 1e-6);  // Vidur rounds to microseconds
  CHECK(vidur[2].time_s == 0.098189);
}

TEST_CASE("Mooncake synthetic trace") {
  const auto a = read_ok(kData + "mooncake_fast25_synthetic_trace.jsonl", TraceFormat::Mooncake);
  REQUIRE(a.size() == 3993);
  CHECK(a[0].time_s == 0);
  CHECK(a[0].prompt == 40160);
  CHECK(a[0].output == 6);
  CHECK(a.back().time_s == 1022.025);  // 1022025 ms
}

TEST_CASE("format detection") {
  for (auto [file, format] : {std::pair{"azure_llm_2023_conv.csv", TraceFormat::Azure},
                              std::pair{"azure_llm_2023_code.csv", TraceFormat::Azure},
                              std::pair{"vidur_splitwise_code.csv", TraceFormat::Vidur},
                              std::pair{"mooncake_fast25_synthetic_trace.jsonl", TraceFormat::Mooncake}}) {
    INFO(file);
    CHECK(same_arrivals(read_ok(kData + file), read_ok(kData + file, format)));
  }
  TempFile bp("detect.jsonl", "\n{\"time\": 0.5, \"prompt\": 3, \"output\": 4}\n");
  const auto a = read_ok(bp.path());
  REQUIRE(a.size() == 1);
  CHECK(a[0].time_s == 0.5);  // batchproof times are kept as written
}

TEST_CASE("batchproof JSON Lines round trip") {
  std::vector<Arrival> original(6);
  original[0] = {0, 1, 1, ""};
  original[1] = {1e-9, 2, 3, "quote\"and\\slash"};
  original[2] = {0.1, 512, 64, "chat"};
  original[3] = {1.0 / 3, 7, 9, ""};
  original[4] = {12345.678901234567, 4096, 1, "naïve"};
  original[5] = {3.5e7, 9'000'000'000'000LL, 2, "batch"};
  const std::string text = write_arrivals_jsonl(original);
  CHECK(text.substr(0, text.find('\n')) == R"({"time": 0, "prompt": 1, "output": 1})");
  CHECK(text.find(R"({"time": 0.1, "prompt": 512, "output": 64, "class": "chat"})") != std::string::npos);
  TempFile f("roundtrip.jsonl", text);
  CHECK(same_arrivals(read_ok(f.path(), TraceFormat::Batchproof), original));
  CHECK(same_arrivals(read_ok(f.path()), original));
  CHECK(write_arrivals_jsonl({}).empty());
}

TEST_CASE("arrivals are sorted by time, stably") {
  TempFile f("unsorted.jsonl",
             "{\"time\": 2, \"prompt\": 1, \"output\": 1}\n"
             "{\"time\": 1, \"prompt\": 2, \"output\": 1}\n"
             "\n"
             "   \n"
             "{\"time\": 1, \"prompt\": 3, \"output\": 1, \"class\": \"b\", \"extra\": [1, {\"x\": 2}]}\n");
  const auto a = read_ok(f.path());
  REQUIRE(a.size() == 3);
  CHECK(a[0].prompt == 2);
  CHECK(a[1].prompt == 3);
  CHECK(a[1].cls == "b");
  CHECK(a[2].prompt == 1);
  CHECK(a[2].time_s == 2);
}

TEST_CASE("Azure timestamps across midnight, year end and leap day") {
  TempFile f("midnight.csv",
             "TIMESTAMP,ContextTokens,GeneratedTokens\r\n"
             "2023-12-31 23:59:59.5000000,1,1\r\n"
             "2024-01-01 00:00:00.2500000,2,1\r\n"
             "2024-02-28 23:00:00,3,1\r\n"
             "2024-03-01T01:00:00Z,4,1\r\n"
             "2024-03-01 03:00:00.123456789999+01:00,5,1");
  const auto a = read_ok(f.path());
  REQUIRE(a.size() == 5);
  CHECK(a[0].time_s == 0);
  CHECK(a[1].time_s == 0.75);
  // 2024-02-28 23:00 is 59 days less an hour after New Year, half a second after the first row.
  CHECK(a[2].time_s == 5094000.5);
  CHECK(a[3].time_s == 5094000.5 + 26 * 3600);  // 26 hours later: 2024 has a 29 February
  CHECK(a[4].time_s == 5191200.623456789);      // 03:00+01:00 is 02:00 UTC; digits past ns dropped
}

TEST_CASE("Azure CSV with extra and reordered columns") {
  TempFile f("reordered.csv", "GeneratedTokens, TIMESTAMP ,other,ContextTokens\n7,2023-11-16 18:00:01,x,5\n"
                              "8,2023-11-16 18:00:00,y,6\n");
  const auto a = read_ok(f.path());
  REQUIRE(a.size() == 2);
  CHECK(a[0].prompt == 6);
  CHECK(a[0].output == 8);
  CHECK(a[1].time_s == 1);
}

TEST_CASE("malformed Azure lines point at the field") {
  const auto d = read_bad_text("bad_azure.csv",
                               "TIMESTAMP,ContextTokens,GeneratedTokens\r\n"
                               "2023-11-16 18:15:46.6805900,374,44\r\n"
                               "2023-11-16 18:15:50.9951690,abc,109\r\n"
                               "2023-11-16 18:15:51.2224670,879\r\n"
                               "2023-11-16 18:15:51.3910170,91,0\r\n"
                               "2023-13-16 18:15:51.3910170,91,3\r\n"
                               "2023-11-16 18:15:51.3910170,-5,3,7\r\n"
                               "2023-11-16 18:15:51.3910170,,3\r\n"
                               "2023-11-16 18:15:51.3910170,12.5,99999999999999999999\r\n"
                               "2023-02-29 18:15:51,1,1\r\n");
  REQUIRE(d.size() == 8);
  check_diag(d[0], 3, 29, "ContextTokens: expected a whole number of tokens, found 'abc'");
  CHECK(d[0].source_line == "2023-11-16 18:15:50.9951690,abc,109");
  check_diag(d[1], 4, 32, "expected 3 fields (TIMESTAMP,ContextTokens,GeneratedTokens), found 2");
  check_diag(d[2], 5, 32, "GeneratedTokens: expected at least 1 token, found '0'");
  check_diag(d[3], 6, 1,
             "TIMESTAMP: expected a date and time like 2023-11-16 18:17:03.9799600, found "
             "'2023-13-16 18:15:51.3910170'");
  check_diag(d[4], 7, 34, "expected 3 fields (TIMESTAMP,ContextTokens,GeneratedTokens), found 4");
  check_diag(d[5], 8, 29, "ContextTokens: expected a whole number of tokens, found nothing");
  check_diag(d[6], 9, 29, "ContextTokens: expected a whole number of tokens, found '12.5'");
  check_diag(d[7], 10, 1,
             "TIMESTAMP: expected a date and time like 2023-11-16 18:17:03.9799600, found '2023-02-29 18:15:51'");
  CHECK(render(d[0]) ==
        d[0].loc.file +
            ":3:29: error: ContextTokens: expected a whole number of tokens, found 'abc'\n"
            "  2023-11-16 18:15:50.9951690,abc,109\n"
            "                              ^\n");
}

TEST_CASE("malformed Vidur lines") {
  const auto d = read_bad_text("bad_vidur.csv",
                               "arrived_at,num_prefill_tokens,num_decode_tokens\n"
                               "0.0,10,5\n"
                               "inf,10,5\n"
                               "1.0,1e400,5\n"
                               "x1,10,5\n"
                               "2.0,10,-3\n"
                               "3.0,10,5.0\n");
  REQUIRE(d.size() == 4);
  check_diag(d[0], 3, 1, "arrived_at: expected a finite number of seconds, found 'inf'");
  check_diag(d[1], 4, 5, "num_prefill_tokens: number out of range, found '1e400'");
  check_diag(d[2], 5, 1, "arrived_at: expected a number of seconds, found 'x1'");
  check_diag(d[3], 6, 8, "num_decode_tokens: expected at least 1 token, found '-3'");
}

TEST_CASE("malformed batchproof lines") {
  const auto d = read_bad_text("bad.jsonl",
                               "{\"time\": 0, \"prompt\": 10, \"output\": 5}\n"
                               "{\"time\": 1, \"prompt\": \"ten\", \"output\": 5}\n"
                               "  {\"time\": 2, \"output\": 5}\n"
                               "{\"time\": 3, \"prompt\": 10, \"output\": 5\n"
                               "[1, 2]\n"
                               "{\"time\": 4, \"prompt\": 10, \"output\": 5, \"class\": 7}\n"
                               "{\"time\": 5, \"prompt\": 10, \"output\":-1}\n"
                               "{\"time\": \"now\", \"prompt\": 10, \"output\": 1}\n"
                               "{\"time\": 6, \"prompt\": 2.5, \"output\": 1}\n"
                               "{\"time\": 7, \"prompt\": 18446744073709551615, \"output\": 1}\n"
                               "{\"time\": 1e999, \"prompt\": 1, \"output\": 1}\n");
  REQUIRE(d.size() == 10);
  check_diag(d[0], 2, 23, "prompt: expected a whole number of tokens, found \"ten\"");
  check_diag(d[1], 3, 3, "missing field \"prompt\"");
  check_diag(d[2], 4, 38, "malformed JSON: syntax error while parsing object - unexpected end of input; expected '}'");
  check_diag(d[3], 5, 1, "expected a JSON object, found [1, 2]");
  check_diag(d[4], 6, 49, "class: expected a string, found 7");
  check_diag(d[5], 7, 36, "output: expected at least 1 token, found -1");
  check_diag(d[6], 8, 10, "time: expected a number of seconds, found \"now\"");
  check_diag(d[7], 9, 23, "prompt: expected a whole number of tokens, found 2.5");
  check_diag(d[8], 10, 23, "prompt: number out of range, found 18446744073709551615");
  check_diag(d[9], 11, 1, "malformed JSON: number overflow parsing '1e999'");
}

TEST_CASE("malformed Mooncake lines") {
  const auto d = read_bad_text("bad_mooncake.jsonl",
                               "{\"timestamp\": 0, \"input_length\": 5, \"output_length\": 1, \"hash_ids\": [0]}\n"
                               "{\"timestamp\": null, \"input_length\": 5, \"output_length\": 1}\n"
                               "{\"timestamp\": 10, \"input_length\": 5}\n",
                               TraceFormat::Mooncake);
  REQUIRE(d.size() == 2);
  check_diag(d[0], 2, 15, "timestamp: expected a number of milliseconds, found null");
  check_diag(d[1], 3, 1, "missing field \"output_length\"");
}

TEST_CASE("at most ten malformed lines are reported") {
  std::string text = "arrived_at,num_prefill_tokens,num_decode_tokens\n";
  for (int i = 0; i < 15; ++i) text += "1.0,0,1\n";
  const auto d = read_bad_text("many.csv", text);
  REQUIRE(d.size() == 11);
  check_diag(d[9], 11, 5, "num_prefill_tokens: expected at least 1 token, found '0'");
  check_diag(d[10], 12, 5, "... and 5 more malformed lines");
  CHECK(d[10].source_line.empty());

  std::string json;
  for (int i = 0; i < 11; ++i) json += "{\"time\": 1, \"prompt\": 1, \"output\": 1\n";
  const auto j = read_bad_text("many.jsonl", json, TraceFormat::Batchproof);
  REQUIRE(j.size() == 11);
  CHECK(j[10].message == "... and 1 more malformed line");
  CHECK(j[10].loc.line == 11);
}

TEST_CASE("a missing file, a directory, an empty file") {
  {
    const std::string path = kData + "no_such_file.csv";
    const auto d = read_bad(path);
    REQUIRE(d.size() == 1);
    CHECK(d[0].message == "cannot read arrivals file: No such file or directory");
    CHECK(d[0].loc.file == path);
    CHECK_FALSE(d[0].loc.known());
  }
  {
    const auto d = read_bad(kData);
    REQUIRE(d.size() == 1);
    CHECK(d[0].message == "cannot read arrivals file: Is a directory");
  }
  for (const char* empty : {"", "\n\n  \r\n", "TIMESTAMP,ContextTokens,GeneratedTokens\r\n",
                            "arrived_at,num_prefill_tokens,num_decode_tokens"}) {
    const auto d = read_bad_text("empty.txt", empty);
    REQUIRE(d.size() == 1);
    CHECK(d[0].message == "no arrivals in file");
    CHECK_FALSE(d[0].loc.known());
  }
}

TEST_CASE("a truncated last line") {
  const auto d = read_bad_text("truncated.csv",
                               "TIMESTAMP,ContextTokens,GeneratedTokens\r\n"
                               "2023-11-16 18:15:46.6805900,374,44\r\n"
                               "2023-11-16 18:15:51.39");
  REQUIRE(d.size() == 1);
  check_diag(d[0], 3, 23, "expected 3 fields (TIMESTAMP,ContextTokens,GeneratedTokens), found 1");

  const auto j = read_bad_text("truncated.jsonl",
                               "{\"time\": 0, \"prompt\": 10, \"output\": 5}\n"
                               "{\"time\": 1, \"prom");
  REQUIRE(j.size() == 1);
  check_diag(j[0], 2, 18,
             "malformed JSON: syntax error while parsing object key - invalid string: missing closing quote; "
             "last read: '\"prom'; expected string literal");
}

TEST_CASE("binary junk") {
  std::string junk("\x89PNG\r\n\x1a\n\0\0\0\rIHDR\xff\xfe,\x01\x02\n\xc3", 24);
  {
    const auto d = read_bad_text("junk.bin", junk);
    REQUIRE(d.size() == 1);
    CHECK(d[0].loc.line == 1);
    CHECK(d[0].loc.col == 1);
    CHECK(d[0].message.rfind("cannot tell the format of this arrivals file: expected JSON Lines with \"time\"", 0) == 0);
    CHECK_FALSE(render(d[0]).empty());
  }
  {
    const auto d = read_bad_text("junk.bin", junk, TraceFormat::Azure);
    REQUIRE(d.size() == 1);
    check_diag(d[0], 1, 1,
               "the Azure header has no column 'TIMESTAMP' (expected TIMESTAMP,ContextTokens,GeneratedTokens)");
  }
  {
    const auto d = read_bad_text("junk.bin", junk, TraceFormat::Batchproof);
    REQUIRE(d.size() == 4);  // \x1a and \xc3 are lines too
    check_diag(d[0], 1, 1, "malformed JSON: syntax error while parsing value - invalid literal; last read: '?'");
    for (const auto& x : d)
      CHECK(std::all_of(x.message.begin(), x.message.end(),
                        [](char c) { return static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7f; }));
  }
}
