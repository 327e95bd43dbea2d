// IQ2_XXS / IQ2_XS super-blocks unpacked to one common form, so the scalar reference and the
// SIMD kernels read the bit layouts from one place. Out-of-line generic functions: safe to call
// from the ISA-specific compile units (no inline code shared across instruction sets).
#pragma once

#include <cstdint>

namespace quorum::kernels::ref {

// One 256-weight super-block: weight 8 g + j = d / 8 * scale[g / 2] * grid_g[j] * (sign bit j of
// signs[g] ? -1 : 1), where grid_g is the 8 magnitudes (bytes) of grid point grid[g] of the
// type's code book and scale is ggml's odd integer 2 s + 1 for the stored 4-bit s.
struct Iq2Block {
  float d = 0.0f;       // the block's F16 scale
  uint16_t grid[32];    // grid index per 8 weights (IQ2_XXS < 256, IQ2_XS < 512)
  uint8_t signs[32];    // sign byte per 8 weights (kSignsIQ2XS entry: bit j negates weight j)
  uint8_t scale[16];    // 2 s + 1 per 16 weights (IQ2_XXS: pairs share one s per 32 weights)
};

void unpack_iq2_xxs(const void* block, Iq2Block& out);  // block: one BlockIQ2_XXS
void unpack_iq2_xs(const void* block, Iq2Block& out);   // block: one BlockIQ2_XS

}  // namespace quorum::kernels::ref
