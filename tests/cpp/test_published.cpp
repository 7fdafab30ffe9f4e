#include "aadap/core/published.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

using aadap::Published;

TEST(Published, UpdateReplacesAndOldReferencesStayValid) {
  Published<std::string> value("one");
  const std::string& first = value.get();
  value.update([](std::string& s) { s += "+two"; });
  EXPECT_EQ(value.get(), "one+two");
  EXPECT_EQ(first, "one") << "an old version is immutable and still alive";
}

TEST(Published, ConcurrentReadersSeeWholeVersions) {
  struct Pair {
    int a = 0;
    int b = 0;  // always equal to a in every published version
  };
  Published<Pair> value;
  std::atomic<bool> stop{false};
  std::atomic<int> torn{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        const Pair& p = value.get();
        if (p.a != p.b) torn.fetch_add(1);
      }
    });
  }
  for (int i = 1; i <= 500; ++i) {
    value.update([i](Pair& p) {
      p.a = i;
      p.b = i;
    });
  }
  stop = true;
  for (auto& r : readers) r.join();
  EXPECT_EQ(torn.load(), 0);
  EXPECT_EQ(value.get().a, 500);
}
