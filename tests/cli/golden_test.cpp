// Golden tests of diagnostics (tests/golden/README.md): `batchproof check FILE` on every
// tests/golden/bad/*.bp must exit with code 3 and print exactly tests/golden/bad/NAME.expected
// on stderr; on every tests/golden/ok/*.bp it must exit with code 0 and print exactly its
// NAME.expected (usually empty). Files are named relative to the repository root, as a user
// in the root would type them, so the expected output holds paths like
// tests/golden/bad/unknown_unit.bp.
//
// BATCHPROOF_UPDATE_GOLDEN=1 rewrites every .expected with what the binary prints now (exit
// codes are still checked). Review the diff before committing it: a golden file states what
// the diagnostic *should* be, not whatever the binary happens to print.
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

namespace fs = std::filesystem;

namespace {

constexpr int kBadInput = 3;
constexpr auto kTimeout = std::chrono::seconds(60);

struct RunResult {
  int exit_code = -1;     // the exit status, or -1 if the binary did not exit normally
  std::string err;        // everything it wrote on stderr
  std::string failure;    // why it could not be run (empty when it ran)
};

// Runs `BATCHPROOF_BINARY check FILE` in the repository root, stdout discarded, stderr captured.
RunResult run_check(const std::string& file) {
  RunResult r;
  int fds[2];
  if (pipe(fds) != 0) {
    r.failure = std::string("pipe: ") + std::strerror(errno);
    return r;
  }
  pid_t pid = fork();
  if (pid < 0) {
    r.failure = std::string("fork: ") + std::strerror(errno);
    close(fds[0]);
    close(fds[1]);
    return r;
  }
  if (pid == 0) {
    // The child: only async-signal-safe calls until exec.
    close(fds[0]);
    if (chdir(BATCHPROOF_SOURCE_DIR) != 0) _exit(126);
    int null_fd = open("/dev/null", O_WRONLY);
    if (null_fd < 0 || dup2(null_fd, STDOUT_FILENO) < 0 || dup2(fds[1], STDERR_FILENO) < 0) _exit(126);
    close(null_fd);
    close(fds[1]);
    const char* argv[] = {BATCHPROOF_BINARY, "check", file.c_str(), nullptr};
    execv(BATCHPROOF_BINARY, const_cast<char* const*>(argv));
    _exit(127);
  }
  close(fds[1]);
  const auto deadline = std::chrono::steady_clock::now() + kTimeout;
  char buf[4096];
  bool timed_out = false;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    int ready = poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) {
      timed_out = ready == 0;
      if (ready < 0) r.failure = std::string("poll: ") + std::strerror(errno);
      break;
    }
    ssize_t n = read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    r.err.append(buf, static_cast<std::size_t>(n));
  }
  close(fds[0]);
  if (timed_out) {
    kill(pid, SIGKILL);
    r.failure = "timed out after 60 s";
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) {
    r.exit_code = WEXITSTATUS(status);
    if (r.exit_code == 126 || r.exit_code == 127)
      if (r.failure.empty() && r.err.empty()) r.failure = "could not start " BATCHPROOF_BINARY;
  } else if (WIFSIGNALED(status) && r.failure.empty()) {
    r.failure = "killed by signal " + std::to_string(WTERMSIG(status)) + " (" + strsignal(WTERMSIG(status)) + ")";
  }
  return r;
}

bool update_mode() {
  const char* v = std::getenv("BATCHPROOF_UPDATE_GOLDEN");
  return v && std::string(v) == "1";
}

// The .bp files of tests/golden/DIR, sorted, as paths relative to the repository root.
std::vector<std::string> cases(const std::string& dir) {
  std::vector<std::string> out;
  fs::path root(BATCHPROOF_SOURCE_DIR);
  for (const auto& entry : fs::directory_iterator(root / "tests" / "golden" / dir))
    if (entry.is_regular_file() && entry.path().extension() == ".bp")
      out.push_back("tests/golden/" + dir + "/" + entry.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

std::string expected_path(const std::string& bp) {
  return (fs::path(BATCHPROOF_SOURCE_DIR) / fs::path(bp).replace_extension(".expected")).string();
}

bool read_all(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return true;
}

// Where two outputs first differ, line by line, for a failure message that survives Catch's
// wrapping of long strings.
std::string first_difference(const std::string& expected, const std::string& actual) {
  std::istringstream e(expected), a(actual);
  std::string le, la;
  for (int line = 1;; ++line) {
    bool he = static_cast<bool>(std::getline(e, le)), ha = static_cast<bool>(std::getline(a, la));
    if (!he && !ha) return "the outputs differ only in the final newline";
    if (he != ha || le != la) {
      std::ostringstream out;
      out << "first difference on line " << line << " of stderr\n  expected: "
          << (he ? "[" + le + "]" : "(end of output)") << "\n  actual:   " << (ha ? "[" + la + "]" : "(end of output)");
      return out.str();
    }
  }
}

// One golden case: the exit code and the exact stderr.
void check_case(const std::string& bp, int want_code) {
  RunResult r = run_check(bp);
  INFO("batchproof check " << bp);
  REQUIRE(r.failure == "");
  const std::string exp_path = expected_path(bp);
  if (update_mode()) {
    std::string old;
    bool had = read_all(exp_path, old);
    if (!had || old != r.err) {
      std::ofstream out(exp_path, std::ios::binary | std::ios::trunc);
      out << r.err;
      REQUIRE(out.good());
      WARN("rewrote " << exp_path);
    }
  } else {
    std::string expected;
    if (!read_all(exp_path, expected))
      FAIL("no " << exp_path << ": write it, or run with BATCHPROOF_UPDATE_GOLDEN=1 and review what it records");
    const std::string where = r.err == expected ? std::string() : first_difference(expected, r.err);
    INFO(where);
    CHECK(r.err == expected);
  }
  CHECK(r.exit_code == want_code);
}

}  // namespace

TEST_CASE("golden: diagnostics of bad inputs", "[cli][golden]") {
  const auto files = cases("bad");
  REQUIRE(files.size() >= 30);  // the project promises at least 30 bad inputs
  for (const auto& bp : files) {
    DYNAMIC_SECTION(bp) { check_case(bp, kBadInput); }
  }
}

TEST_CASE("golden: inputs that are not errors", "[cli][golden]") {
  const auto files = cases("ok");
  REQUIRE(!files.empty());
  for (const auto& bp : files) {
    DYNAMIC_SECTION(bp) { check_case(bp, 0); }
  }
}
