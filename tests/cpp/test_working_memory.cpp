#include "aadap/core/errors.hpp"
#include "aadap/memory/working_memory.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <set>
#include <thread>

using namespace aadap;
using namespace aadap::memory;
using namespace std::chrono_literals;

namespace {

struct Fixture {
  std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>();
  WorkingMemory wm;
  explicit Fixture(std::int64_t max_bytes = std::int64_t{1} << 30, std::size_t shards = 8)
      : wm(WorkingMemory::Options{max_bytes, 3600, clock, shards, false}) {}
};

std::vector<std::string> scan_all(WorkingMemory& wm, std::string_view ns, std::string_view pattern,
                                  std::size_t count) {
  std::vector<std::string> out;
  std::string cursor = "0";
  do {
    auto page = wm.scan(ns, pattern, cursor, count);
    out.insert(out.end(), page.keys.begin(), page.keys.end());
    cursor = page.cursor;
  } while (cursor != "0");
  return out;
}

}  // namespace

TEST(WorkingMemory, SetGetDeleteAndNamespacesAreIsolated) {
  Fixture f;
  f.wm.set("wm", "k", "v1");
  f.wm.set("sess", "k", "v2");
  EXPECT_EQ(f.wm.get("wm", "k"), "v1");
  EXPECT_EQ(f.wm.get("sess", "k"), "v2");
  EXPECT_TRUE(f.wm.remove("wm", "k"));
  EXPECT_FALSE(f.wm.remove("wm", "k"));
  EXPECT_FALSE(f.wm.get("wm", "k").has_value());
  EXPECT_EQ(f.wm.get("sess", "k"), "v2");
  f.wm.set("wm", "k", std::string("\0bin\xff", 5));
  EXPECT_EQ(f.wm.get("wm", "k")->size(), 5u);
  f.wm.set("wm", "", "empty key is a key");
  EXPECT_EQ(f.wm.get("wm", ""), "empty key is a key");
}

TEST(WorkingMemory, DefaultTtlsPerNamespace) {
  Fixture f;
  for (auto [ns, ttl] : std::map<std::string, std::int64_t>{
           {"wm", 3600}, {"cp", 86400}, {"tt", 7200}, {"sess", 3600}}) {
    f.wm.set(ns, "k", "v");
    EXPECT_EQ(f.wm.ttl(ns, "k"), ttl) << ns;
  }
  f.wm.register_namespace("forever", std::nullopt);
  f.wm.set("forever", "k", "v");
  EXPECT_EQ(f.wm.ttl("forever", "k"), kNoExpiry);
  f.wm.register_namespace("short", 60);
  f.wm.set("short", "k", "v");
  EXPECT_EQ(f.wm.ttl("short", "k"), 60);
  EXPECT_NO_THROW(f.wm.register_namespace("short", 60));
  EXPECT_THROW(f.wm.register_namespace("short", 61), InvalidArgumentError);
  EXPECT_THROW(f.wm.register_namespace("bad name", 60), InvalidArgumentError);
}

TEST(WorkingMemory, TtlConventionsAndCeiling) {
  Fixture f;
  EXPECT_EQ(f.wm.ttl("wm", "missing"), kMissing);
  f.wm.set("wm", "k", "v", 120);
  EXPECT_EQ(f.wm.ttl("wm", "k"), 120);
  f.clock->advance(1ns);
  EXPECT_EQ(f.wm.ttl("wm", "k"), 120) << "ceiling: 119.999999999 s reports 120";
  f.clock->advance(500ms);
  EXPECT_EQ(f.wm.ttl("wm", "k"), 120);
  f.clock->advance(500ms);
  EXPECT_EQ(f.wm.ttl("wm", "k"), 119);
  EXPECT_TRUE(f.wm.persist("wm", "k"));
  EXPECT_EQ(f.wm.ttl("wm", "k"), kNoExpiry);
  EXPECT_TRUE(f.wm.expire("wm", "k", 5));
  EXPECT_EQ(f.wm.ttl("wm", "k"), 5);
  EXPECT_FALSE(f.wm.expire("wm", "missing", 5));
  EXPECT_FALSE(f.wm.persist("wm", "missing"));
}

TEST(WorkingMemory, ExpiryIsExactlyAtTheDeadline) {
  Fixture f;
  f.wm.set("wm", "k", "v", 10);
  f.clock->advance(10s - 1ns);
  EXPECT_TRUE(f.wm.exists("wm", "k"));
  EXPECT_EQ(f.wm.ttl("wm", "k"), 1);
  f.clock->advance(1ns);
  EXPECT_FALSE(f.wm.exists("wm", "k"));
  EXPECT_EQ(f.wm.ttl("wm", "k"), kMissing);
  EXPECT_FALSE(f.wm.get("wm", "k").has_value());
  EXPECT_FALSE(f.wm.remove("wm", "k")) << "an expired key counts as absent";
  EXPECT_FALSE(f.wm.expire("wm", "k", 10));
}

TEST(WorkingMemory, ExpiredKeysAreReclaimedWithoutAccess) {
  Fixture f;
  for (int i = 0; i < 100; ++i) f.wm.set("wm", "k" + std::to_string(i), "v", i < 60 ? 5 : 50);
  f.clock->advance(6s);
  EXPECT_EQ(f.wm.sweep_expired(), 60);
  const auto stats = f.wm.stats();
  EXPECT_EQ(stats[0].keys, 40);
  EXPECT_EQ(stats[0].expirations, 60);
  EXPECT_EQ(stats[0].bytes, 40 * (3 + 1 + kEntryOverheadBytes));  // k60..k99 -> "v"
}

TEST(WorkingMemory, BackgroundSweeperReclaims) {
  auto clock = std::make_shared<ManualClock>();
  WorkingMemory wm(WorkingMemory::Options{1 << 20, 3600, clock, 4, true});
  for (int i = 0; i < 50; ++i) wm.set("wm", "k" + std::to_string(i), "v", 1);
  clock->advance(2s);
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (wm.stats()[0].keys > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(wm.stats()[0].keys, 0);
  EXPECT_EQ(wm.stats()[0].expirations, 50);
}

TEST(WorkingMemory, BadInputIsRefusedAndStoresNothing) {
  Fixture f;
  EXPECT_THROW(f.wm.set("wm", "k", "v", 0), InvalidArgumentError);
  EXPECT_THROW(f.wm.set("wm", "k", "v", -5), InvalidArgumentError);
  EXPECT_THROW(f.wm.set("nope", "k", "v"), InvalidArgumentError);
  EXPECT_THROW(f.wm.set("wm", std::string(kMaxKeyBytes + 1, 'k'), "v"), InvalidArgumentError);
  EXPECT_NO_THROW(f.wm.set("wm", std::string(kMaxKeyBytes, 'k'), "v"));
  EXPECT_FALSE(f.wm.exists("wm", "k"));
  const std::pair<std::string_view, std::string_view> items[] = {
      {"a", "1"}, {std::string_view("b"), "2"}, {std::string(kMaxKeyBytes + 1, 'x'), "3"}};
  EXPECT_THROW(f.wm.mset("wm", items), InvalidArgumentError);
  EXPECT_FALSE(f.wm.exists("wm", "a")) << "mset validates everything before storing";
  try {
    f.wm.get("unknown", "k");
    FAIL();
  } catch (const InvalidArgumentError& e) {
    EXPECT_NE(std::string(e.what()).find("wm, cp, tt, sess"), std::string::npos) << e.what();
  }
}

TEST(WorkingMemory, IncrIsADecimalCounter) {
  Fixture f;
  EXPECT_EQ(f.wm.incr("tt", "task-1", 100), 100);
  EXPECT_EQ(f.wm.incr("tt", "task-1", -30), 70);
  EXPECT_EQ(f.wm.get("tt", "task-1"), "70");
  EXPECT_EQ(f.wm.ttl("tt", "task-1"), 7200) << "a new counter gets the namespace default TTL";
  f.wm.expire("tt", "task-1", 10);
  f.wm.incr("tt", "task-1");
  EXPECT_EQ(f.wm.ttl("tt", "task-1"), 10) << "an existing counter keeps its TTL";
  f.wm.set("tt", "text", "abc");
  EXPECT_THROW(f.wm.incr("tt", "text"), InvalidArgumentError);
  f.wm.set("tt", "big", std::to_string(std::numeric_limits<std::int64_t>::max()));
  EXPECT_THROW(f.wm.incr("tt", "big"), InvalidArgumentError);
  EXPECT_EQ(f.wm.get("tt", "big"), std::to_string(std::numeric_limits<std::int64_t>::max()));
}

TEST(WorkingMemory, LruEvictionOrder) {
  const std::int64_t entry = 1 + 10 + kEntryOverheadBytes;  // one-byte key, ten-byte value
  Fixture f(3 * entry, 1);
  f.wm.set("wm", "a", "0123456789");
  f.wm.set("wm", "b", "0123456789");
  f.wm.set("wm", "c", "0123456789");
  EXPECT_TRUE(f.wm.get("wm", "a").has_value());  // a is now the most recently used
  f.wm.set("wm", "d", "0123456789");             // evicts b, the least recently used
  EXPECT_FALSE(f.wm.exists("wm", "b"));
  EXPECT_TRUE(f.wm.exists("wm", "a"));
  EXPECT_TRUE(f.wm.exists("wm", "c"));
  EXPECT_TRUE(f.wm.exists("wm", "d"));
  f.wm.set("wm", "e", "0123456789");  // evicts c
  EXPECT_FALSE(f.wm.exists("wm", "c"));
  EXPECT_EQ(f.wm.stats()[0].evictions, 2);
  EXPECT_LE(f.wm.stats()[0].bytes, 3 * entry);
  EXPECT_THROW(f.wm.set("wm", "huge", std::string(4 * entry, 'x')), InvalidArgumentError);
}

TEST(WorkingMemory, ScanVisitsEveryKeyOnceWithAPattern) {
  Fixture f;
  for (int i = 0; i < 1000; ++i) f.wm.set("wm", "agent:" + std::to_string(i) + ":plan", "v");
  for (int i = 0; i < 100; ++i) f.wm.set("wm", "other:" + std::to_string(i), "v");
  f.wm.set("sess", "agent:1:plan", "other namespace");
  const auto keys = scan_all(f.wm, "wm", "agent:*:plan", 37);
  EXPECT_EQ(keys.size(), 1000u);
  EXPECT_EQ(std::set<std::string>(keys.begin(), keys.end()).size(), 1000u);
  EXPECT_EQ(scan_all(f.wm, "wm", "*", 1000).size(), 1100u);
  EXPECT_THROW(f.wm.scan("wm", "[", "0"), InvalidArgumentError);
  EXPECT_THROW(f.wm.scan("wm", "*", "garbage"), InvalidArgumentError);
  EXPECT_THROW(f.wm.scan("wm", "*", "999999-0"), InvalidArgumentError);
}

TEST(WorkingMemory, ConcurrentScanSeesSurvivorsExactlyOnce) {
  Fixture f(std::int64_t{1} << 30, 16);
  for (int i = 0; i < 5000; ++i) f.wm.set("wm", "stable:" + std::to_string(i), "v");
  std::atomic<bool> stop{false};
  std::thread churn([&] {
    int n = 0;
    while (!stop.load()) {
      f.wm.set("wm", "churn:" + std::to_string(n % 3000), "v");
      f.wm.remove("wm", "churn:" + std::to_string((n * 7) % 3000));
      ++n;
    }
  });
  std::map<std::string, int> seen;
  for (const auto& key : scan_all(f.wm, "wm", "stable:*", 50)) ++seen[key];
  stop = true;
  churn.join();
  EXPECT_EQ(seen.size(), 5000u);
  for (const auto& [key, times] : seen) EXPECT_EQ(times, 1) << key;
}

TEST(WorkingMemory, ConcurrentIncrIsAtomic) {
  Fixture f;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 5000; ++i) f.wm.incr("tt", "shared");
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(f.wm.get("tt", "shared"), "20000");
}

TEST(WorkingMemory, ConcurrentMixedOperationsUnderEviction) {
  Fixture f(64 * 1024, 8);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 4000; ++i) {
        const std::string key = "k" + std::to_string((i * 31 + t) % 2000);
        switch (i % 5) {
          case 0: f.wm.set("wm", key, std::string(100, 'x')); break;
          case 1: (void)f.wm.get("wm", key); break;
          case 2: f.wm.remove("wm", key); break;
          case 3: (void)f.wm.ttl("wm", key); break;
          default: (void)f.wm.scan("wm", "k1*", "0", 64); break;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  const auto stats = f.wm.stats()[0];
  EXPECT_LE(stats.bytes, 64 * 1024);
  EXPECT_EQ(stats.keys, f.wm.keys_count("wm"));
}

TEST(WorkingMemory, ClearAndKeysCount) {
  Fixture f;
  for (int i = 0; i < 10; ++i) f.wm.set("wm", std::to_string(i), "v", i < 3 ? 1 : 100);
  f.wm.set("cp", "keep", "v");
  f.clock->advance(2s);
  EXPECT_EQ(f.wm.keys_count("wm"), 7);
  EXPECT_EQ(f.wm.clear("wm"), 7);
  EXPECT_EQ(f.wm.keys_count("wm"), 0);
  EXPECT_EQ(f.wm.stats()[0].bytes, 0);
  EXPECT_EQ(f.wm.get("cp", "keep"), "v");
}

TEST(WorkingMemory, StatsCountHitsAndMisses) {
  Fixture f;
  f.wm.set("sess", "s", "v");
  (void)f.wm.get("sess", "s");
  (void)f.wm.get("sess", "s");
  (void)f.wm.get("sess", "none");
  const auto stats = f.wm.stats();
  ASSERT_EQ(stats[3].name, "sess");
  EXPECT_EQ(stats[3].hits, 2);
  EXPECT_EQ(stats[3].misses, 1);
  EXPECT_EQ(stats[3].keys, 1);
  EXPECT_EQ(stats[3].bytes, 1 + 1 + kEntryOverheadBytes);
}

TEST(WorkingMemory, ScopedKeysCannotCollide) {
  const std::string_view a[] = {"agent", "a:b"};
  const std::string_view b[] = {"agent", "a", "b"};
  const std::string_view c[] = {"agent", "a\\", "b"};
  EXPECT_NE(scoped_key(a), scoped_key(b));
  EXPECT_NE(scoped_key(c), scoped_key(b));
  EXPECT_NE(scoped_key(a), scoped_key(c));
  EXPECT_EQ(scoped_key(a), "agent:a\\:b");
}
