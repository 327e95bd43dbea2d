// Code books of ggml's IQ2 types (ggml-common.h). They define the file format: each entry of
// the iq2 grids packs 8 unsigned magnitudes (one per byte, values 8, 25 or 43) of 8 weights.
#pragma once

#include <cstdint>

namespace quorum {

extern const uint64_t kIQ2XXSGrid[256];  // ggml's iq2xxs_grid
extern const uint64_t kIQ2XSGrid[512];   // ggml's iq2xs_grid
extern const uint8_t kSignsIQ2XS[128];   // ggml's ksigns_iq2xs: 7 sign bits + parity bit
extern const uint8_t kMaskIQ2XS[8];      // ggml's kmask_iq2xs: 1 << j

}  // namespace quorum
