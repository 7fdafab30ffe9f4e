#include "aadap/core/dotenv.hpp"
#include "aadap/core/errors.hpp"

#include <gtest/gtest.h>

#include <fstream>

using namespace aadap;

TEST(Dotenv, ParsesTheUsualForms) {
  const auto env = parse_dotenv(
      "# comment\n"
      "\n"
      "A=1\n"
      "export B = two words # trailing comment\n"
      "C='single $literal # not a comment'\n"
      "D=\"line1\\nline2 \\\"q\\\"\"\n"
      "E=\n"
      "not an assignment\n"
      "F=\"multi\n"
      "line\"\n"
      "G=after\n");
  EXPECT_EQ(env.at("A"), "1");
  EXPECT_EQ(env.at("B"), "two words");
  EXPECT_EQ(env.at("C"), "single $literal # not a comment");
  EXPECT_EQ(env.at("D"), "line1\nline2 \"q\"");
  EXPECT_EQ(env.at("E"), "");
  EXPECT_EQ(env.at("F"), "multi\nline");
  EXPECT_EQ(env.at("G"), "after");
  EXPECT_EQ(env.count("not"), 0u);
}

TEST(Dotenv, UnterminatedQuoteNamesTheLine) {
  try {
    parse_dotenv("A=1\nB=\"open\nC=3\n");
    FAIL();
  } catch (const ConfigurationError& e) {
    EXPECT_NE(std::string(e.what()).find("B"), std::string::npos);
    EXPECT_EQ(e.details().at("line"), 2);
  }
}

TEST(Dotenv, MissingFileIsEmpty) {
  EXPECT_TRUE(read_dotenv("/nonexistent/dir/.env").empty());
}

TEST(Dotenv, ReadsAFile) {
  const auto path = std::filesystem::temp_directory_path() / "aadap_test_dotenv.env";
  std::ofstream(path) << "AADAP_APP_NAME=from-file\r\n";
  EXPECT_EQ(read_dotenv(path).at("AADAP_APP_NAME"), "from-file");
  std::filesystem::remove(path);
}
