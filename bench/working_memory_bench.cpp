// C++-only figures for bench/working_memory.py: get throughput at 100,000 keys on one and two
// threads, and the memory an entry costs beyond its key and value bytes. Prints JSON.
#include "aadap/memory/working_memory.hpp"

#include <malloc.h>

#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <thread>
#include <vector>

using aadap::memory::WorkingMemory;

namespace {

std::string random_key(std::mt19937_64& rng) {  // 16 hex characters, like the Python bench
  static constexpr char kHex[] = "0123456789abcdef";
  std::string key(16, '0');
  for (auto& c : key) c = kHex[rng() & 15];
  return key;
}

double gets_per_second(WorkingMemory& wm, const std::vector<std::string>& keys, int threads,
                       std::size_t ops_per_thread) {
  std::vector<std::thread> workers;
  const auto start = std::chrono::steady_clock::now();
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      std::mt19937_64 rng(1234 + t);
      // Lookup keys are copies, distinct from the stored ones (as a real caller's would be).
      std::vector<std::string> lookups;
      lookups.reserve(4096);
      for (int i = 0; i < 4096; ++i) lookups.push_back(keys[rng() % keys.size()]);
      std::size_t found = 0;
      for (std::size_t i = 0; i < ops_per_thread; ++i) {
        found += wm.read("wm", lookups[i & 4095], [](std::string_view) {}) ? 1 : 0;
      }
      if (found != ops_per_thread) std::fprintf(stderr, "unexpected misses\n");
    });
  }
  for (auto& w : workers) w.join();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return static_cast<double>(threads * ops_per_thread) / seconds;
}

}  // namespace

int main() {
  constexpr std::size_t kKeys = 100'000;
  constexpr std::size_t kValueBytes = 100;
  WorkingMemory::Options options;
  options.background_sweeper = false;
  std::mt19937_64 rng(42);
  std::vector<std::string> keys;
  for (std::size_t i = 0; i < kKeys; ++i) keys.push_back(random_key(rng));
  const std::string value(kValueBytes, 'v');

  const std::size_t heap_before = mallinfo2().uordblks;
  auto wm = std::make_unique<WorkingMemory>(options);
  for (const auto& key : keys) wm->set("wm", key, value);
  const std::size_t heap_after = mallinfo2().uordblks;
  const double per_entry = static_cast<double>(heap_after - heap_before) / kKeys;
  const double overhead = per_entry - static_cast<double>(16 + kValueBytes);

  double one = 0;
  double two = 0;
  for (int round = 0; round < 3; ++round) {  // best of three: the machines are shared
    one = std::max(one, gets_per_second(*wm, keys, 1, 5'000'000));
    two = std::max(two, gets_per_second(*wm, keys, 2, 5'000'000));
  }
  std::printf(
      "{\"keys\": %zu, \"gets_per_second_1_thread\": %.0f, \"gets_per_second_2_threads\": %.0f, "
      "\"heap_bytes_per_entry\": %.1f, \"overhead_bytes_per_entry\": %.1f}\n",
      kKeys, one, two, per_entry, overhead);
  return 0;
}
