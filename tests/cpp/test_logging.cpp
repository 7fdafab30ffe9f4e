#include "aadap/core/logging.hpp"
#include "aadap/core/secret.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <regex>
#include <sstream>
#include <thread>

using namespace aadap;

namespace {

// Captures the lines written while alive; restores stderr and INFO afterwards.
class Capture {
 public:
  explicit Capture(log::Format format = log::Format::json, log::Level level = log::Level::debug) {
    log::configure(log::Config{level, format, "test-app", "staging"});
    log::set_sinks({std::make_shared<spdlog::sinks::ostream_sink_mt>(out_)});
  }
  ~Capture() {
    log::configure(log::Config{});
    log::set_sinks({std::make_shared<spdlog::sinks::ostream_sink_mt>(std::cerr)});
  }
  std::vector<std::string> lines() const {
    std::vector<std::string> out;
    std::istringstream in(out_.str());
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  }

 private:
  std::ostringstream out_;
};

}  // namespace

TEST(Logging, JsonLineCarriesTheSpecFields) {
  Capture capture;
  log::Logger("aadap.store")
      .info("task.transitioned", "cid-7", log::kv("task_id", "t1"), log::kv("version", 3),
            log::kv("ok", true));
  const auto lines = capture.lines();
  ASSERT_EQ(lines.size(), 1u);
  const auto line = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(line.at("level"), "INFO");
  EXPECT_EQ(line.at("logger"), "aadap.store");
  EXPECT_EQ(line.at("event"), "task.transitioned");
  EXPECT_EQ(line.at("app"), "test-app");
  EXPECT_EQ(line.at("environment"), "staging");
  EXPECT_EQ(line.at("correlation_id"), "cid-7");
  EXPECT_EQ(line.at("task_id"), "t1");
  EXPECT_EQ(line.at("version"), 3);
  EXPECT_EQ(line.at("ok"), true);
  const std::regex iso(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$)");
  EXPECT_TRUE(std::regex_match(line.at("timestamp").get<std::string>(), iso)) << lines[0];
}

TEST(Logging, NoCorrelationIdFieldWithoutOne) {
  Capture capture;
  log::Logger("aadap").info("plain", "");
  EXPECT_FALSE(nlohmann::json::parse(capture.lines().at(0)).contains("correlation_id"));
}

TEST(Logging, ReservedFieldNamesDoNotOverwriteTheLine) {
  Capture capture;
  log::Logger("aadap").info("x", "", log::kv("level", "fake"), log::kv("event", "fake"));
  const auto line = nlohmann::json::parse(capture.lines().at(0));
  EXPECT_EQ(line.at("level"), "INFO");
  EXPECT_EQ(line.at("event"), "x");
  EXPECT_EQ(line.at("field.level"), "fake");
}

TEST(Logging, LevelFiltersAndChangesAtRunTime) {
  Capture capture(log::Format::json, log::Level::warning);
  const log::Logger logger("aadap");
  logger.info("hidden", "");
  logger.warning("shown", "");
  log::set_level(log::Level::debug);
  logger.debug("now-shown", "");
  const auto lines = capture.lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(nlohmann::json::parse(lines[0]).at("event"), "shown");
  EXPECT_EQ(nlohmann::json::parse(lines[1]).at("level"), "DEBUG");
}

TEST(Logging, SecretsAreMaskedInEveryLine) {
  Capture capture;
  const Secret key("sk-abcdef-logging-test");
  log::Logger("aadap").info("auth", "", log::kv("key", key),
                            log::kv("body", std::string("echo sk-abcdef-logging-test")),
                            log::kv("header", std::string("Authorization: Bearer tok123456")),
                            log::kv("password", std::string("plain")));
  const auto text = capture.lines().at(0);
  EXPECT_EQ(text.find("sk-abcdef"), std::string::npos) << text;
  EXPECT_EQ(text.find("tok123456"), std::string::npos) << text;
  EXPECT_EQ(text.find("plain"), std::string::npos) << text;
  EXPECT_TRUE(nlohmann::json::accept(text)) << "masking keeps the line valid JSON";
}

TEST(Logging, ConsoleFormatHasTheSameFields) {
  Capture capture(log::Format::console);
  log::Logger("aadap.engine").warning("task.stuck", "cid-9", log::kv("task_id", "t 1"));
  const auto text = capture.lines().at(0);
  for (auto part : {"WARNING", "aadap.engine", "task.stuck", "app=test-app", "environment=staging",
                    "correlation_id=cid-9", "task_id=\"t 1\""}) {
    EXPECT_NE(text.find(part), std::string::npos) << part << " in " << text;
  }
}

TEST(Logging, CallbackReceivesRecords) {
  Capture capture;
  std::vector<std::string> events;
  log::set_callback([&](const log::Record& r) {
    events.push_back(std::string(r.event) + "|" + std::string(r.correlation_id) + "|" +
                     std::string(r.fields_json));
  });
  log::Logger("aadap").info("routed", "cid-1", log::kv("n", 1));
  log::set_callback(nullptr);
  log::Logger("aadap").info("back-to-sink", "");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0], "routed|cid-1|{\"n\":1}");
  ASSERT_EQ(capture.lines().size(), 1u);
  EXPECT_NE(capture.lines()[0].find("back-to-sink"), std::string::npos);
}

TEST(Logging, ConcurrentLoggingAndReconfiguration) {
  Capture capture;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t] {
      const log::Logger logger("aadap.t" + std::to_string(t));
      for (int i = 0; i < 200; ++i) logger.info("tick", "", log::kv("i", i));
    });
  }
  for (int i = 0; i < 50; ++i)
    log::configure(log::Config{log::Level::debug, log::Format::json, "a", "b"});
  for (auto& thread : threads) thread.join();
  const auto lines = capture.lines();
  EXPECT_EQ(lines.size(), 800u);
  for (const auto& line : lines) EXPECT_TRUE(nlohmann::json::accept(line)) << line;
}

TEST(Logging, ParseLevelAndFormat) {
  EXPECT_EQ(log::parse_level("warning"), log::Level::warning);
  EXPECT_EQ(log::parse_level("Critical"), log::Level::critical);
  EXPECT_FALSE(log::parse_level("verbose").has_value());
  EXPECT_EQ(log::parse_format("JSON"), log::Format::json);
  EXPECT_FALSE(log::parse_format("xml").has_value());
}
