#include "aadap/core/database_url.hpp"
#include "aadap/core/errors.hpp"

#include <gtest/gtest.h>

using namespace aadap;

TEST(DatabaseUrl, SqliteForms) {
  EXPECT_EQ(DatabaseUrl::parse("sqlite:///rel/x.db").sqlite_path(), "rel/x.db");
  EXPECT_EQ(DatabaseUrl::parse("sqlite:////abs/x.db").sqlite_path(), "/abs/x.db");
  EXPECT_TRUE(DatabaseUrl::parse("sqlite://").in_memory());
  EXPECT_TRUE(DatabaseUrl::parse("sqlite:///:memory:").in_memory());
  EXPECT_EQ(DatabaseUrl::parse("/tmp/a.db").sqlite_path(), "/tmp/a.db");
  EXPECT_EQ(DatabaseUrl::parse("/tmp/a.db").normalized(), "sqlite:////tmp/a.db");
  EXPECT_EQ(DatabaseUrl::parse("data.db").normalized(), "sqlite:///data.db");
  EXPECT_EQ(DatabaseUrl::parse("sqlite:///x.db?mode=ro").sqlite_path(), "x.db");
}

TEST(DatabaseUrl, PostgresSpellingsAreNormalised) {
  for (auto scheme : {"postgresql", "postgres", "postgresql+asyncpg", "postgresql+psycopg"}) {
    const auto url = DatabaseUrl::parse(std::string(scheme) + "://u:pw@db.example:5432/app");
    EXPECT_EQ(url.backend(), DatabaseBackend::postgresql);
    EXPECT_EQ(url.normalized(), "postgresql://u:pw@db.example:5432/app");
    EXPECT_EQ(url.password(), "pw");
  }
  EXPECT_EQ(DatabaseUrl::parse("postgresql://u@h/db?password=s3cret&sslmode=require").password(),
            "s3cret");
  EXPECT_EQ(DatabaseUrl::parse("postgresql://u@h/db").password(), "");
}

TEST(DatabaseUrl, RedactedHidesThePassword) {
  const auto url = DatabaseUrl::parse("postgresql+asyncpg://alice:hunter2pw@h:5432/db");
  EXPECT_EQ(url.redacted(), "postgresql://alice:**********@h:5432/db");
}

TEST(DatabaseUrl, RejectsUnknownSchemesWithoutLeakingThePassword) {
  try {
    DatabaseUrl::parse("mysql://root:topsecretpw@h/db");
    FAIL();
  } catch (const InvalidArgumentError& e) {
    const std::string message = e.what();
    EXPECT_EQ(message.find("topsecretpw"), std::string::npos) << message;
    EXPECT_NE(message.find("mysql"), std::string::npos);
    EXPECT_NE(message.find("postgresql://"), std::string::npos) << "says what is allowed";
  }
  EXPECT_THROW(DatabaseUrl::parse(""), InvalidArgumentError);
  EXPECT_THROW(DatabaseUrl::parse("sqlite://host/x.db"), InvalidArgumentError);
  EXPECT_THROW(DatabaseUrl::parse("postgresql://"), InvalidArgumentError);
}
