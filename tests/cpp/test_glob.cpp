#include "aadap/core/errors.hpp"
#include "aadap/memory/glob.hpp"

#include <gtest/gtest.h>

using aadap::memory::glob_match;
using aadap::memory::validate_glob;

TEST(Glob, Wildcards) {
  EXPECT_TRUE(glob_match("*", ""));
  EXPECT_TRUE(glob_match("*", "anything"));
  EXPECT_TRUE(glob_match("agent:*:plan", "agent:7:plan"));
  EXPECT_FALSE(glob_match("agent:*:plan", "agent:7:plan2"));
  EXPECT_TRUE(glob_match("a?c", "abc"));
  EXPECT_FALSE(glob_match("a?c", "ac"));
  EXPECT_TRUE(glob_match("*a*b*c*", "xxaxxbxxcxx"));
  EXPECT_FALSE(glob_match("*a*b*c*", "xxaxxcxxbxx"));
}

TEST(Glob, Classes) {
  EXPECT_TRUE(glob_match("k[0-9]", "k7"));
  EXPECT_FALSE(glob_match("k[0-9]", "kx"));
  EXPECT_TRUE(glob_match("k[!0-9]", "kx"));
  EXPECT_TRUE(glob_match("k[^0-9]", "kx"));
  EXPECT_TRUE(glob_match("k[abc]", "kb"));
  EXPECT_TRUE(glob_match("k[]]", "k]"));
  EXPECT_TRUE(glob_match("k[*]", "k*"));
  EXPECT_FALSE(glob_match("k[*]", "kx"));
}

TEST(Glob, EscapesMatchLiterally) {
  EXPECT_TRUE(glob_match("a\\*b", "a*b"));
  EXPECT_FALSE(glob_match("a\\*b", "axb"));
  EXPECT_TRUE(glob_match("\\[x\\]", "[x]"));
  EXPECT_TRUE(glob_match("a\\:b", "a:b"));
}

TEST(Glob, InvalidPatterns) {
  EXPECT_THROW(validate_glob("k[abc"), aadap::InvalidArgumentError);
  EXPECT_THROW(validate_glob("trailing\\"), aadap::InvalidArgumentError);
  EXPECT_NO_THROW(validate_glob("ok[a-z]*\\*"));
}
