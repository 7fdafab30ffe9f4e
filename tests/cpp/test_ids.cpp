#include "aadap/core/ids.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <regex>
#include <set>
#include <string>

using namespace aadap;

TEST(Ids, Uuid4IsRandomVersion4) {
  const std::regex form("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const auto id = new_uuid4();
    EXPECT_TRUE(std::regex_match(id, form)) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(Ids, Uuid7IsVersion7StrictlyIncreasingAndCarriesTheTime) {
  const std::regex form("^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  const auto before = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  std::string previous;
  // Far more ids than the 4096 a millisecond's counter holds: the overflow path runs too.
  for (int i = 0; i < 20000; ++i) {
    const auto id = new_uuid7();
    ASSERT_TRUE(std::regex_match(id, form)) << id;
    ASSERT_LT(previous, id);  // text order is time order
    previous = id;
  }
  const std::string hex = previous.substr(0, 8) + previous.substr(9, 4);
  const auto stamp = static_cast<std::int64_t>(std::stoull(hex, nullptr, 16));
  const auto after = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  EXPECT_GE(stamp, before);
  // Each millisecond holds at least 2048 ids, so 20000 ids run at most 10 ms ahead.
  EXPECT_LE(stamp, after + 10);
}
