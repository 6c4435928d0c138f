// The byte input of every log reader: a plain file, a gzip file (by its magic bytes, whatever
// its name; several members one after the other, as `cat a.gz b.gz` makes) or standard input.
// Bytes are read in large blocks into one buffer and handed out as views: lines (an inline SSE2
// search for the line end, memchr past 64 bytes) or raw blocks. The buffer grows only as far
// as the longest line held, and a line past the cap is read past rather than held, so memory
// stays bounded whatever the input.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <utility>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <fmt/format.h>

#include "traces/reader.hpp"

namespace batchproof::traces {

namespace {

constexpr std::size_t kFirstCapacity = std::size_t{4} << 20;  // grows for long lines only
constexpr std::size_t kRawBlock = std::size_t{1} << 20;       // compressed bytes read at once
constexpr std::size_t kShownPrefix = 4096;                    // kept of a line past the cap

std::string errno_text(int err) { return std::strerror(err); }

// The first newline in [p, end), or null; the kPadding bytes after `end` are readable. Most
// lines of the text logs and CSVs are under 64 bytes: their end is found in four SSE2 compares
// inline, where a call to memchr costs more than its search (6% of reading the batch CSV);
// longer lines go on with memchr, which is faster over long spans.
const char* find_newline(const char* p, const char* end) {
#if defined(__SSE2__)
  static_assert(Input::kPadding >= 16);
  const __m128i newline = _mm_set1_epi8('\n');
  for (int i = 0; i < 4 && p < end; ++i, p += 16) {
    const auto hits = static_cast<unsigned>(
        _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)), newline)));
    if (hits != 0) {
      const char* at = p + __builtin_ctz(hits);
      return at < end ? at : nullptr;  // past `end`: the padding, or bytes of an earlier fill
    }
  }
  if (p >= end) return nullptr;
#endif
  return static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
}

// ---------------------------------------------------------------------------------------------
// Byte sources

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Up to `n` bytes into `out`: how many, 0 at the end, or -1 on an error (error() says it).
  virtual std::ptrdiff_t read(char* out, std::size_t n) = 0;
  const std::optional<std::string>& error() const { return error_; }

 protected:
  std::optional<std::string> error_;
};

// A file descriptor, with the bytes already read to look at the magic number given back first.
class FdSource final : public ByteSource {
 public:
  FdSource(int fd, bool owned, std::string peeked) : fd_(fd), owned_(owned), peeked_(std::move(peeked)) {}
  ~FdSource() override {
    if (owned_) ::close(fd_);
  }
  FdSource(const FdSource&) = delete;
  FdSource& operator=(const FdSource&) = delete;

  std::ptrdiff_t read(char* out, std::size_t n) override {
    if (peeked_pos_ < peeked_.size()) {
      const std::size_t k = std::min(n, peeked_.size() - peeked_pos_);
      std::memcpy(out, peeked_.data() + peeked_pos_, k);
      peeked_pos_ += k;
      if (peeked_pos_ == peeked_.size()) {
        peeked_.clear();
        peeked_pos_ = 0;
      }
      return static_cast<std::ptrdiff_t>(k);
    }
    for (;;) {
      const ssize_t got = ::read(fd_, out, n);
      if (got >= 0) return got;
      if (errno == EINTR) continue;
      error_ = fmt::format("read error: {}", errno_text(errno));
      return -1;
    }
  }

 private:
  int fd_;
  bool owned_;
  std::string peeked_;
  std::size_t peeked_pos_ = 0;
};

// gzip members inflated with zlib, one after the other. Between members, zero bytes (padding
// some tools add) are skipped; anything else is reported.
class GzipSource final : public ByteSource {
 public:
  explicit GzipSource(std::unique_ptr<ByteSource> raw) : raw_(std::move(raw)), in_(kRawBlock) {
    std::memset(&z_, 0, sizeof z_);
    // 15 + 16: a gzip wrapper (not zlib's own), the largest window.
    if (inflateInit2(&z_, 15 + 16) != Z_OK) error_ = "cannot start gzip decompression";
    ready_ = !error_;
  }
  ~GzipSource() override {
    if (ready_) inflateEnd(&z_);
  }
  GzipSource(const GzipSource&) = delete;
  GzipSource& operator=(const GzipSource&) = delete;

  std::ptrdiff_t read(char* out, std::size_t n) override {
    if (error_ || done_) return error_ ? -1 : 0;
    z_.next_out = reinterpret_cast<Bytef*>(out);
    z_.avail_out = static_cast<uInt>(std::min<std::size_t>(n, 1u << 30));
    const uInt wanted = z_.avail_out;
    while (z_.avail_out == wanted) {
      if (z_.avail_in == 0 && !refill()) {
        if (error_) return -1;
        // The compressed bytes end: fine between members, a cut file inside one.
        if (in_member_) {
          error_ = "truncated gzip data: the input ends in the middle of a compressed stream";
          return -1;
        }
        done_ = true;
        return 0;
      }
      if (!in_member_ && !start_member()) {
        if (error_) return -1;
        continue;  // skipped padding, or needs more bytes
      }
      const int ret = inflate(&z_, Z_NO_FLUSH);
      if (ret == Z_STREAM_END) {
        in_member_ = false;
      } else if (ret == Z_BUF_ERROR) {
        continue;  // needs more input
      } else if (ret != Z_OK) {
        error_ = fmt::format("corrupt gzip data: {}", z_.msg ? z_.msg : zError(ret));
        return -1;
      }
    }
    return static_cast<std::ptrdiff_t>(wanted - z_.avail_out);
  }

 private:
  bool refill() {
    const std::ptrdiff_t got = raw_->read(in_.data(), in_.size());
    if (got < 0) {
      error_ = raw_->error();
      return false;
    }
    if (got == 0) return false;
    z_.next_in = reinterpret_cast<Bytef*>(in_.data());
    z_.avail_in = static_cast<uInt>(got);
    return true;
  }

  // At a member boundary with bytes available: a new member (1f 8b) or padding zeros.
  bool start_member() {
    while (z_.avail_in > 0 && z_.next_in[0] == 0) {
      ++z_.next_in;
      --z_.avail_in;
    }
    if (z_.avail_in == 0) return false;
    if (z_.next_in[0] != 0x1f || (z_.avail_in > 1 && z_.next_in[1] != 0x8b)) {
      error_ = "trailing bytes after the gzip data that are not gzip";
      return false;
    }
    if (members_ > 0) inflateReset(&z_);
    ++members_;
    in_member_ = true;
    return true;
  }

  std::unique_ptr<ByteSource> raw_;
  std::vector<char> in_;
  z_stream z_;
  bool ready_ = false;
  bool in_member_ = false;
  bool done_ = false;
  int members_ = 0;
};

// ---------------------------------------------------------------------------------------------
// The buffered input

class BufferedInput final : public Input {
 public:
  BufferedInput(std::string path, std::unique_ptr<ByteSource> source)
      : Input(std::move(path)), source_(std::move(source)) {
    allocate(kFirstCapacity);
  }

  std::string_view head() override {
    start();
    while (end_ - begin_ < kHeadBytes && !eof_) fill();
    return {buf_.get() + begin_, std::min(end_ - begin_, kHeadBytes)};
  }

  bool next_line(std::string_view& line) override {
    start();
    too_long_ = false;
    std::size_t scan = begin_;
    for (;;) {
      const char* nl = end_ > scan ? find_newline(buf_.get() + scan, buf_.get() + end_) : nullptr;
      if (nl != nullptr) {
        const auto at = static_cast<std::size_t>(nl - buf_.get());
        if (at - begin_ > max_line_) return skip_long_line(line);  // it came in whole: as long
        line = {buf_.get() + begin_, at - begin_};
        begin_ = at + 1;
        terminated_ = true;
        break;
      }
      if (end_ - begin_ > max_line_) return skip_long_line(line);
      if (eof_) {
        if (begin_ == end_) return false;
        line = {buf_.get() + begin_, end_ - begin_};
        begin_ = end_;
        terminated_ = false;
        break;
      }
      const std::size_t scanned = end_ - begin_;
      fill();  // may move the pending bytes to the front
      scan = begin_ + scanned;
    }
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    ++line_number_;
    return true;
  }

  bool next_block(std::string_view& block) override {
    start();
    if (begin_ == end_) {
      if (eof_) return false;
      fill();
      if (begin_ == end_) return false;
    }
    block = {buf_.get() + begin_, end_ - begin_};
    begin_ = end_;
    return true;
  }

  std::int64_t line_number() const override { return line_number_; }
  bool line_terminated() const override { return terminated_; }
  bool line_too_long() const override { return too_long_; }
  void set_max_line(std::size_t bytes) override { max_line_ = std::max<std::size_t>(bytes, 1); }
  std::size_t max_line() const override { return max_line_; }
  bool padded() const override { return true; }
  std::optional<std::string> error() const override { return error_; }

 private:
  void allocate(std::size_t capacity) {
    // Value-initialised: the padding after the data is zeros, never stale memory.
    auto fresh = std::make_unique<char[]>(capacity + kPadding);
    if (end_ > begin_) std::memcpy(fresh.get(), buf_.get() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
    buf_ = std::move(fresh);
    capacity_ = capacity;
  }

  // The first read, and the byte order mark.
  void start() {
    if (started_) return;
    started_ = true;
    while (end_ - begin_ < 3 && !eof_) fill();
    if (end_ - begin_ >= 3 && std::memcmp(buf_.get() + begin_, "\xEF\xBB\xBF", 3) == 0) begin_ += 3;
  }

  // Reads more bytes after end_, making room first: the pending bytes move to the front, and
  // the buffer doubles when they fill it (a long line).
  void fill() {
    if (eof_) return;
    if (end_ == capacity_ || capacity_ - end_ < kRawBlock / 4) {
      if (begin_ > 0) {
        std::memmove(buf_.get(), buf_.get() + begin_, end_ - begin_);
        end_ -= begin_;
        begin_ = 0;
      }
      if (capacity_ - end_ < kRawBlock / 4) {
        // Double, but not far past the longest line held (plus room to find its end).
        const std::size_t limit = std::max(max_line_ + 2 * kRawBlock, kFirstCapacity);
        allocate(std::max(end_ + kRawBlock, std::min(capacity_ * 2, limit)));
      }
    }
    const std::ptrdiff_t got = source_->read(buf_.get() + end_, capacity_ - end_);
    if (got < 0) {
      error_ = source_->error() ? *source_->error() : std::string("read error");
      eof_ = true;
    } else if (got == 0) {
      eof_ = true;
    } else {
      end_ += static_cast<std::size_t>(got);
    }
    // After a huge line, give the memory back.
    if (capacity_ > kFirstCapacity && end_ - begin_ < kFirstCapacity / 2 && begin_ > 0) allocate(kFirstCapacity);
  }

  // The pending line is past the cap: keep its first bytes for a message and read on to its end.
  bool skip_long_line(std::string_view& line) {
    long_prefix_.assign(buf_.get() + begin_, std::min(kShownPrefix, end_ - begin_));
    long_prefix_.resize(long_prefix_.size() + kPadding, '\0');
    long_prefix_.resize(long_prefix_.size() - kPadding);  // capacity keeps the padding
    bool found = false;
    while (!found) {
      const void* nl = std::memchr(buf_.get() + begin_, '\n', end_ - begin_);
      const std::size_t upto =
          nl != nullptr ? static_cast<std::size_t>(static_cast<const char*>(nl) - buf_.get()) + 1 : end_;
      begin_ = upto;
      found = nl != nullptr;
      if (!found) {
        if (eof_) break;
        begin_ = end_ = 0;  // drop what was read past: the buffer stays as it is
        fill();
        if (eof_ && begin_ == end_) break;
      }
    }
    terminated_ = found;
    too_long_ = true;
    ++line_number_;
    line = long_prefix_;
    return true;
  }

  std::unique_ptr<ByteSource> source_;
  std::unique_ptr<char[]> buf_;
  std::size_t capacity_ = 0;
  std::size_t begin_ = 0, end_ = 0;  // the bytes read and not handed out
  bool started_ = false;
  bool eof_ = false;
  std::optional<std::string> error_;
  std::int64_t line_number_ = 0;
  bool terminated_ = false;
  bool too_long_ = false;
  std::size_t max_line_ = kDefaultMaxLine;
  std::string long_prefix_;
};

}  // namespace

bool Input::next_block(std::string_view& block) {
  std::string_view line;
  if (!next_line(line)) return false;
  block_.assign(line);
  block_ += '\n';
  block = block_;
  return true;
}

std::unique_ptr<Input> Input::open(const std::string& path, core::Diagnostics& diags) {
  const bool stdin_input = path == "-";
  int fd = 0;
  if (!stdin_input) {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      diags.error({path, 0, 0}, fmt::format("cannot open log: {}", errno_text(errno)));
      return nullptr;
    }
    struct stat st {};
    if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
      ::close(fd);
      diags.error({path, 0, 0}, "cannot open log: it is a directory");
      return nullptr;
    }
  }
  // The first bytes decide whether it is gzip; they are given back to whoever reads next.
  std::string peeked(2, '\0');
  std::size_t have = 0;
  while (have < 2) {
    const ssize_t got = ::read(fd, peeked.data() + have, 2 - have);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      const int err = errno;
      if (!stdin_input) ::close(fd);
      diags.error({path, 0, 0}, fmt::format("cannot read log: {}", errno_text(err)));
      return nullptr;
    }
    if (got == 0) break;
    have += static_cast<std::size_t>(got);
  }
  peeked.resize(have);
  const bool gzip = have == 2 && static_cast<unsigned char>(peeked[0]) == 0x1f &&
                    static_cast<unsigned char>(peeked[1]) == 0x8b;
  std::unique_ptr<ByteSource> source = std::make_unique<FdSource>(fd, !stdin_input, std::move(peeked));
  if (gzip) source = std::make_unique<GzipSource>(std::move(source));
  return std::make_unique<BufferedInput>(path, std::move(source));
}

}  // namespace batchproof::traces
