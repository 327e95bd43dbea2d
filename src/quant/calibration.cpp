// Name building for the activation observer calls (see calibration.h).
#include "quant/calibration.h"

#include <array>

namespace quorum::quant {

void notify_linear_input(ActivationObserver& observer, int64_t layer,
                         std::initializer_list<const char*> short_names, const float* x,
                         int64_t n, int64_t k) {
  std::array<std::string, 4> names;
  size_t count = 0;
  for (const char* s : short_names) {
    if (count == names.size()) break;
    names[count++] = layer < 0 ? std::string(s) + ".weight"
                               : "blk." + std::to_string(layer) + "." + s + ".weight";
  }
  LinearInput in;
  in.layer = layer;
  in.weights = std::span<const std::string>(names.data(), count);
  in.x = x;
  in.n = n;
  in.k = k;
  observer.on_linear_input(in);
}

}  // namespace quorum::quant
