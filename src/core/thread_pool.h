// A fixed pool of worker threads for data-parallel loops (matmuls, quantization, eval).
//
// parallel_for splits [0, n) into contiguous chunks, one per thread, and runs them with the
// calling thread taking part; it returns when all are done. Tasks must not throw.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace quorum {

class ThreadPool {
 public:
  // n_threads counts the caller: ThreadPool(1) runs everything inline.
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }

  // fn(begin, end, thread_index) over chunks of [0, n); chunks are multiples of `grain` except
  // the last.
  void parallel_for(int64_t n, int64_t grain,
                    const std::function<void(int64_t, int64_t, int)>& fn);

  // fn(thread_index, n_threads) on every thread at once.
  void run_on_all(const std::function<void(int, int)>& fn);

 private:
  void worker(int index);

  int n_threads_;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable cv_start_, cv_done_;
  const std::function<void(int, int)>* job_ = nullptr;
  uint64_t generation_ = 0;
  int pending_ = 0;
  bool stop_ = false;
};

// Number of threads to use by default: the hardware's, at least 1.
int default_thread_count();

}  // namespace quorum
