// CPU feature detection, done once and passed around in a Context (no global state).
#pragma once

#include <string>

namespace quorum {

struct CpuFeatures {
  bool avx2 = false;
  bool fma = false;
  bool f16c = false;
  bool avx512f = false;
  bool avx512bw = false;
  bool avx512vl = false;
  bool avx512dq = false;
  bool avx512vnni = false;
  bool avx512bf16 = false;
  bool avx_vnni = false;

  static CpuFeatures detect();
  // Limits detection to what the named level allows: "scalar", "avx2", "avx512" (tests and
  // benchmarks use this to force a kernel path).
  CpuFeatures limited_to(const std::string& level) const;
  std::string to_string() const;
};

}  // namespace quorum
