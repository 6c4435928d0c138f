#include "traces/foreign_trace_stream.hpp"

#include <cmath>
#include <streambuf>
#include <string_view>
#include <utility>

#include <fmt/format.h>
#include <simdjson.h>

namespace batchproof::traces {

namespace {

namespace od = simdjson::ondemand;

// A whole number, also when written as 12.0 (docs/trace-format.md allows it).
bool read_int(od::value v, std::int64_t& out) {
  if (v.get_int64().get(out) == simdjson::SUCCESS) return true;
  double d = 0;
  if (v.get_double().get(d) != simdjson::SUCCESS || !(std::floor(d) == d) || std::fabs(d) > 9.0e18) return false;
  out = static_cast<std::int64_t>(d);
  return true;
}

bool read_optional_int(od::value v, std::optional<std::int64_t>& out) {
  if (v.is_null()) {
    out.reset();
    return true;
  }
  std::int64_t x = 0;
  if (!read_int(v, x)) return false;
  out = x;
  return true;
}

bool read_double(od::value v, double& out) { return v.get_double().get(out) == simdjson::SUCCESS; }

bool read_string(od::value v, std::string& out) {
  std::string_view s;
  if (v.get_string().get(s) != simdjson::SUCCESS) return false;
  out.assign(s);
  return true;
}

bool read_ids(od::value v, std::vector<std::int64_t>& out) {
  od::array array;
  if (v.get_array().get(array) != simdjson::SUCCESS) return false;
  for (auto element : array) {
    od::value e;
    std::int64_t id = 0;
    if (std::move(element).get(e) != simdjson::SUCCESS || !read_int(e, id)) return false;
    out.push_back(id);
  }
  return true;
}

// Calls `f(key, value)` for each member of `v`, an object; false if `v` is not one or `f` fails.
template <typename F>
bool each_member(od::value v, F&& f) {
  od::object object;
  if (v.get_object().get(object) != simdjson::SUCCESS) return false;
  for (auto member : object) {
    od::field field;
    std::string_view key;
    if (std::move(member).get(field) != simdjson::SUCCESS || field.unescaped_key().get(key) != simdjson::SUCCESS) return false;
    if (!f(key, field.value())) return false;
  }
  return true;
}

template <typename F>
bool each_element(od::value v, F&& f) {
  od::array array;
  if (v.get_array().get(array) != simdjson::SUCCESS) return false;
  for (auto element : array) {
    od::value e;
    if (std::move(element).get(e) != simdjson::SUCCESS || !f(e)) return false;
  }
  return true;
}

bool read_item(od::value v, core::TraceItem& item) {
  return each_member(v, [&](std::string_view key, od::value value) {
    if (key == "id") return read_int(value, item.id);
    if (key == "prefill") return read_int(value, item.prefill);
    if (key == "decode") {
      bool b = false;
      if (value.get_bool().get(b) == simdjson::SUCCESS) {
        item.decode = b;
        return true;
      }
      std::int64_t d = 0;
      if (!read_int(value, d)) return false;
      item.decode = d != 0;
      return true;
    }
    return true;
  });
}

bool read_arrival(od::value v, core::TraceArrival& a) {
  return each_member(v, [&](std::string_view key, od::value value) {
    if (key == "id") return read_int(value, a.id);
    if (key == "time_s") return read_double(value, a.time_s);
    if (key == "prompt") return read_int(value, a.prompt);
    if (key == "output") return read_int(value, a.output);
    if (key == "class") return read_string(value, a.cls);
    return true;
  });
}

}  // namespace

// Collects what core::TraceWriter writes into lines and converts each.
class ForeignTraceStream::Converter : public std::streambuf {
 public:
  Converter(Format format, std::ostream& out, const ForeignWriterOptions& options)
      : out_(out), writer_(make_foreign_writer(format, out, options)) {}

  bool finish() {
    if (!pending_.empty()) convert(pending_);  // a last line without its end
    pending_.clear();
    if (writer_ && error_.empty()) writer_->finish();
    out_.flush();
    if (error_.empty() && out_.fail()) error_ = "cannot write the log";
    return error_.empty();
  }
  const std::string& error() const { return error_; }

 protected:
  int_type overflow(int_type ch) override {
    if (traits_type::eq_int_type(ch, traits_type::eof())) return traits_type::not_eof(ch);
    const char c = traits_type::to_char_type(ch);
    xsputn(&c, 1);
    return ch;
  }

  std::streamsize xsputn(const char* s, std::streamsize n) override {
    std::string_view text(s, static_cast<std::size_t>(n));
    while (!text.empty()) {
      const std::size_t end = text.find('\n');
      if (end == std::string_view::npos) {
        pending_.append(text);
        break;
      }
      if (pending_.empty()) {
        convert(text.substr(0, end));  // the usual case: TraceWriter writes whole lines
      } else {
        pending_.append(text.substr(0, end));
        convert(pending_);
        pending_.clear();
      }
      text.remove_prefix(end + 1);
    }
    return n;
  }

  int sync() override {
    out_.flush();
    return out_.fail() ? -1 : 0;
  }

 private:
  void convert(std::string_view line) {
    ++line_number_;
    if (!error_.empty() || !writer_ || line.empty()) return;
    // simdjson reads a little past the end: a padded copy.
    padded_.assign(line);
    padded_.resize(line.size() + simdjson::SIMDJSON_PADDING, ' ');
    od::document doc;
    od::value root;
    if (parser_.iterate(padded_.data(), line.size(), padded_.size()).get(doc) != simdjson::SUCCESS ||
        doc.get_value().get(root) != simdjson::SUCCESS) {
      fail("not JSON");
      return;
    }
    std::string type;
    core::TraceHeader header;
    iteration_.items.clear();
    iteration_.arrivals.clear();
    iteration_.departures.clear();
    iteration_.preempted.clear();
    core::TraceIteration& it = iteration_;
    const bool ok = each_member(root, [&](std::string_view key, od::value v) {
      if (key == "type") return read_string(v, type);
      if (type == "state") return true;  // not needed: skip the rest of the record cheaply
      // Header fields.
      if (key == "engine") return read_string(v, header.engine);
      if (key == "profile") return read_string(v, header.profile);
      if (key == "spec") return read_string(v, header.spec);
      if (key == "source") return read_string(v, header.source);
      if (key == "token_budget") return read_optional_int(v, header.token_budget);
      if (key == "max_batch") return read_optional_int(v, header.max_batch);
      if (key == "kv_capacity_tokens") return read_optional_int(v, header.kv_capacity_tokens);
      if (key == "block_size") return read_int(v, header.block_size);
      // Iteration fields.
      if (key == "index") return read_int(v, it.index);
      if (key == "start_s") return read_double(v, it.start_s);
      if (key == "end_s") return read_double(v, it.end_s);
      if (key == "tokens") return read_int(v, it.tokens);
      if (key == "waiting") return read_int(v, it.waiting);
      if (key == "running") return read_int(v, it.running);
      if (key == "kv_used") return read_int(v, it.kv_used);
      if (key == "items")
        return each_element(v, [&](od::value e) { return read_item(e, it.items.emplace_back()); });
      if (key == "arrivals")
        return each_element(v, [&](od::value e) { return read_arrival(e, it.arrivals.emplace_back()); });
      if (key == "departures") return read_ids(v, it.departures);
      if (key == "preempted") return read_ids(v, it.preempted);
      return true;
    });
    if (!ok) {
      fail("a field does not have its type");
      return;
    }
    if (type == "header") writer_->header(header);
    else if (type == "iteration") writer_->iteration(it);
  }

  void fail(std::string_view why) {
    error_ = fmt::format("line {} of the trace could not be converted: {}", line_number_, why);
  }

  std::ostream& out_;
  std::unique_ptr<ForeignTraceWriter> writer_;
  simdjson::ondemand::parser parser_;
  std::string pending_, padded_, error_;
  core::TraceIteration iteration_;  // reused: its lists keep their capacity
  std::int64_t line_number_ = 0;
};

ForeignTraceStream::ForeignTraceStream(Format format, std::ostream& out, const ForeignWriterOptions& options)
    : std::ostream(nullptr), converter_(std::make_unique<Converter>(format, out, options)) {
  rdbuf(converter_.get());
}

ForeignTraceStream::~ForeignTraceStream() { rdbuf(nullptr); }

bool ForeignTraceStream::finish() { return converter_->finish(); }

const std::string& ForeignTraceStream::error() const { return converter_->error(); }

}  // namespace batchproof::traces
