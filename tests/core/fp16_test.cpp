// F16/BF16 conversion against the hardware F16C instructions and known values.
#include <gtest/gtest.h>
#include <immintrin.h>

#include <cmath>

#include "core/cpu.h"
#include "core/fp16.h"

namespace quorum {
namespace {

__attribute__((target("f16c"))) uint16_t hw_f32_to_f16(float f) {
  return static_cast<uint16_t>(_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT));
}
__attribute__((target("f16c"))) float hw_f16_to_f32(uint16_t h) { return _cvtsh_ss(h); }

TEST(Fp16, AllHalfValuesRoundTripAndMatchHardware) {
  ASSERT_TRUE(CpuFeatures::detect().f16c);
  for (uint32_t h = 0; h < 65536; ++h) {
    const float f = f16_to_f32(static_cast<f16_t>(h));
    const float hw = hw_f16_to_f32(static_cast<uint16_t>(h));
    if (std::isnan(hw)) {
      EXPECT_TRUE(std::isnan(f)) << h;
      continue;
    }
    ASSERT_EQ(f32_to_bits(f), f32_to_bits(hw)) << "h=" << h;
    ASSERT_EQ(f32_to_f16(f), h) << "h=" << h;
  }
}

TEST(Fp16, FloatToHalfMatchesHardwareOnSweep) {
  // Every 7th float bit pattern in the finite range: rounding, subnormals, overflow to inf.
  for (uint64_t u = 0; u < 0x7f800000ull; u += 7919) {
    for (uint32_t sign : {0u, 0x80000000u}) {
      const float f = bits_to_f32(static_cast<uint32_t>(u) | sign);
      ASSERT_EQ(f32_to_f16(f), hw_f32_to_f16(f)) << "f=" << f;
    }
  }
}

TEST(Bf16, RoundsToNearestEven) {
  EXPECT_EQ(f32_to_bf16(1.0f), 0x3f80);
  EXPECT_EQ(bf16_to_f32(0x3f80), 1.0f);
  // 1 + 2^-8 is exactly halfway between bf16 1.0 and 1.0078125: ties to even (1.0).
  EXPECT_EQ(f32_to_bf16(1.00390625f), 0x3f80);
  // Just above halfway rounds up.
  EXPECT_EQ(f32_to_bf16(bits_to_f32(0x3f808001)), 0x3f81);
  EXPECT_TRUE(std::isnan(bf16_to_f32(f32_to_bf16(std::nanf("")))));
}

}  // namespace
}  // namespace quorum
