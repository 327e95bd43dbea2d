// Shared helpers of the kernel tests: the instruction sets this CPU can run, byte buffers with a
// chosen misalignment, seeded random data, and a comparison that reports the worst element.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/cpu.h"
#include "kernels/kernels.h"

namespace quorum::kernels::testing {

// Every ISA the CPU supports (always includes kScalar).
inline std::vector<Isa> available_isas() {
  const CpuFeatures cpu = CpuFeatures::detect();
  std::vector<Isa> out;
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
    if (Kernels(cpu, isa).isa() == isa) out.push_back(isa);
  }
  return out;
}

// A byte buffer whose data() is `offset` bytes past a 64-byte boundary.
class OffsetBuffer {
 public:
  OffsetBuffer(size_t bytes, size_t offset) : storage_(bytes + offset + 128) {
    const uintptr_t base = reinterpret_cast<uintptr_t>(storage_.data());
    const uintptr_t aligned = (base + 63) & ~uintptr_t{63};
    data_ = reinterpret_cast<uint8_t*>(aligned) + offset;
  }
  uint8_t* data() { return data_; }
  const uint8_t* data() const { return data_; }

 private:
  std::vector<uint8_t> storage_;
  uint8_t* data_;
};

inline std::vector<float> random_floats(int64_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = dist(rng);
  return v;
}

// Tracks |got - want| / tol over many comparisons and remembers the worst.
struct WorstError {
  double worst_ratio = 0.0;
  std::string where;
  void add(double got, double want, double tol, const std::string& at) {
    const double ratio = std::isnan(got) ? 1e300 : std::fabs(got - want) / tol;
    if (ratio >= worst_ratio) {
      worst_ratio = ratio;
      where = at + ": got " + std::to_string(got) + ", want " + std::to_string(want) +
              ", tolerance " + std::to_string(tol);
    }
  }
  void expect_ok() const {
    EXPECT_LE(worst_ratio, 1.0) << "worst element " << where;
  }
};

// Bound on |float dot - exact dot| for sums of k products split over up to 64 lanes:
// each product rounds once and each lane adds at most k/8 + 8 times (u = 2^-24 per step).
inline double float_dot_tolerance(double sum_abs, int64_t k) {
  return (static_cast<double>(k) / 8.0 + 10.0) * std::ldexp(1.0, -24) * sum_abs + 1e-30;
}

}  // namespace quorum::kernels::testing
