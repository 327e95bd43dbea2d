// The rounding step of GPTQ in a GGUF block format. For one block of a row, the block's scales
// and mins are those the RTN quantizer of the type chose (quant_ref.h); with them fixed, every
// weight i of the block can take the values  a_i * level[q] + b_i,  q in [0, n_levels)
// (level[q] = q for the linear formats, the IQ4_NL code book for IQ4_NL). BlockGrid finds a_i
// and b_i by dequantizing the block with all quants set to two known codes (so it needs no
// knowledge of how scales are stored), rounds single weights to the grid, and packs the chosen
// codes back into the block's quant bits, leaving its scales untouched.
#pragma once

#include <cstdint>
#include <vector>

#include "tensor/dtype.h"

namespace quorum::quant {

class BlockGrid {
 public:
  // nullptr if GPTQ cannot round to this type (plain types, IQ2/IQ3 lattices).
  static const BlockGrid* find(DType type);

  DType type() const { return type_; }
  int block_size() const { return static_cast<int>(traits(type_).block_size); }
  int n_levels() const { return n_levels_; }
  size_t block_bytes() const { return traits(type_).type_size; }

  // a[block_size], b[block_size] of a block (uses `scratch` of block_bytes()).
  void grid(const uint8_t* block, float* a, float* b, std::vector<uint8_t>& scratch,
            std::vector<float>& values) const;
  // The code nearest to x on the grid (a, b) and its value.
  uint8_t round(float x, float a, float b, float* value) const;
  // Writes codes q[block_size] into the quant bits of `block` (scales untouched).
  void pack(const uint8_t* q, uint8_t* block) const { pack_(q, block); }

  using PackFn = void (*)(const uint8_t* q, uint8_t* block);
  constexpr BlockGrid(DType type, int n_levels, const int8_t* levels, PackFn pack)
      : type_(type), n_levels_(n_levels), levels_(levels), pack_(pack) {}

 private:
  DType type_;
  int n_levels_;
  const int8_t* levels_;  // [n_levels] non-linear code book, or null (level[q] = q)
  PackFn pack_;
};

}  // namespace quorum::quant
