// Runs the `quorum` binary (path fixed at configure time: QUORUM_BIN) as a user would, with
// given arguments and stdin, and captures its exit code, stdout and stderr.
#pragma once

#include <sys/wait.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "testing/shared_data.h"

namespace quorum::testing {

struct CliResult {
  int exit_code = -1;
  std::string out, err;
};

inline std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// `quorum args...` with `stdin_text` on its standard input.
inline CliResult run_quorum(const std::vector<std::string>& args, const std::string& stdin_text = "") {
  static int counter = 0;
  const std::string dir = temp_dir("cli" + std::to_string(counter++));
  const std::string in = dir + "/stdin", out = dir + "/stdout", err = dir + "/stderr";
  {
    std::FILE* f = std::fopen(in.c_str(), "wb");
    if (f != nullptr) {
      std::fwrite(stdin_text.data(), 1, stdin_text.size(), f);
      std::fclose(f);
    }
  }
  std::string cmd = shell_quote(QUORUM_BIN);
  for (const std::string& a : args) cmd += " " + shell_quote(a);
  cmd += " <" + shell_quote(in) + " >" + shell_quote(out) + " 2>" + shell_quote(err);
  const int rc = std::system(cmd.c_str());
  CliResult r;
  r.exit_code = WIFEXITED(rc) ? WEXITSTATUS(rc) : 128 + WTERMSIG(rc);
  r.out = read_file(out);
  r.err = read_file(err);
  return r;
}

}  // namespace quorum::testing
