#include "aadap/core/errors.hpp"

#include <gtest/gtest.h>

#include <set>

using namespace aadap;

TEST(Errors, ChildrenAreCaughtAsTheirParents) {
  EXPECT_THROW(throw LoopDetectedError("loop"), InvalidTransitionError);
  EXPECT_THROW(throw StoreUnavailableError("down"), StoreError);
  EXPECT_THROW(throw RateLimitError("429"), PlatformError);
  EXPECT_THROW(throw ApprovalExpiredError("late"), ApprovalError);
  EXPECT_THROW(throw ConcurrencyError("race"), Error);
  EXPECT_THROW(throw ConfigurationError("bad"), std::runtime_error);
}

TEST(Errors, ThrowErrorRaisesTheTypeOfEveryCode) {
  std::set<std::string_view> names;
  for (ErrorCode code : all_error_codes()) {
    try {
      throw_error(code, "message", {{"key", 1}});
      FAIL() << "throw_error returned";
    } catch (const Error& error) {
      EXPECT_EQ(error.code(), code);
      EXPECT_STREQ(error.what(), "message");
      EXPECT_EQ(error.details().at("key"), 1);
    }
    names.insert(error_class_name(code));
  }
  EXPECT_EQ(names.size(), all_error_codes().size()) << "class names must be unique";
}

TEST(Errors, NamesMatchTheSpec) {
  EXPECT_EQ(error_class_name(ErrorCode::error), "AadapError");
  EXPECT_EQ(error_class_name(ErrorCode::concurrency), "ConcurrencyError");
  EXPECT_EQ(error_class_name(ErrorCode::token_budget_exceeded), "TokenBudgetExceededError");
  EXPECT_EQ(error_class_name(ErrorCode::platform_timeout), "PlatformTimeoutError");
}
