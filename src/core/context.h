// Context: what a long-running operation needs from its surroundings, passed explicitly:
// CPU features, the thread pool, the logger and a progress callback.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "core/cpu.h"
#include "core/log.h"
#include "core/thread_pool.h"

namespace quorum {

// Reports progress of long work: done out of total units, with a short label.
using ProgressFn = std::function<void(const std::string& label, int64_t done, int64_t total)>;

struct Context {
  CpuFeatures cpu = CpuFeatures::detect();
  std::shared_ptr<ThreadPool> pool = std::make_shared<ThreadPool>(default_thread_count());
  Logger logger;
  ProgressFn progress;  // may be empty

  static Context with_threads(int n_threads) {
    Context c;
    c.pool = std::make_shared<ThreadPool>(n_threads);
    return c;
  }
};

}  // namespace quorum
