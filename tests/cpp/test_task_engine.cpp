#include "aadap/core/errors.hpp"
#include "aadap/engine/task_engine.hpp"
#include "aadap/store/sqlite_store.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

using namespace aadap;
using namespace aadap::engine;

namespace {

NewTask make(std::string title, std::string environment = "SANDBOX", int priority = 0) {
  NewTask spec;
  spec.title = std::move(title);
  spec.environment = std::move(environment);
  spec.priority = priority;
  return spec;
}

struct Fixture {
  Settings settings = Settings::from_maps({{"HOME", "/tmp"}}, {});
  std::shared_ptr<store::SqliteStore> store =
      std::make_shared<store::SqliteStore>(":memory:", SqliteSynchronous::full);
  std::shared_ptr<memory::WorkingMemory> wm = std::make_shared<memory::WorkingMemory>(
      memory::WorkingMemory::Options{1 << 20, 3600, nullptr, 4, false});
  TaskEngine engine{store, settings, wm};

  store::TaskRecord task(const std::string& title = "Load orders") {
    return engine.create_task(make(title), "tester", "cid-1");
  }
  store::TaskRecord go(const std::string& id, const std::string& to,
                       std::optional<std::int64_t> expected = std::nullopt) {
    return engine.transition(
        TransitionRequest{id, to, "tester", "test", "{}", expected, std::nullopt}, "cid-1");
  }
  std::size_t audits(const std::string& id, const std::string& type) {
    std::size_t n = 0;
    for (const auto& a : engine.audit(id)) n += a.event_type == type ? 1 : 0;
    return n;
  }
};

}  // namespace

TEST(TaskEngine, CreateAndTransitionWriteEventTaskAndAudit) {
  Fixture f;
  const auto t = f.task();
  EXPECT_EQ(t.current_state, "SUBMITTED");
  EXPECT_EQ(t.version, 0);
  EXPECT_EQ(t.token_budget, 50000);
  EXPECT_EQ(f.audits(t.id, "task.created"), 1u);
  const auto parsed = f.go(t.id, "PARSING", 0);
  EXPECT_EQ(parsed.current_state, "PARSING");
  EXPECT_EQ(parsed.version, 1);
  EXPECT_EQ(f.engine.get_task(t.id).version, 1);
  const auto events = f.engine.history(t.id);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].seq, 1);
  EXPECT_EQ(events[0].from_state, "SUBMITTED");
  EXPECT_EQ(events[0].correlation_id, "cid-1");
  EXPECT_EQ(f.audits(t.id, "state.transition"), 1u);
  EXPECT_EQ(f.engine.replay(t.id), "PARSING");
  EXPECT_TRUE(f.engine.verify(t.id).ok);
}

TEST(TaskEngine, InputErrorsWriteNothing) {
  Fixture f;
  EXPECT_THROW(f.task(""), InvalidArgumentError);
  EXPECT_THROW(f.task(std::string(513, 'x')), InvalidArgumentError);
  EXPECT_NO_THROW(f.task(std::string(512, 'x')));
  EXPECT_THROW(f.engine.create_task(make("t", "STAGING"), "a", ""), InvalidArgumentError);
  EXPECT_THROW(f.engine.create_task(make("t", "SANDBOX", 11), "a", ""), InvalidArgumentError);
  NewTask bad_meta = make("t");
  bad_meta.metadata_json = "[1]";
  EXPECT_THROW(f.engine.create_task(bad_meta, "a", ""), InvalidArgumentError);
  NewTask bad_platform = make("t");
  bad_platform.platform = "aws";
  EXPECT_THROW(f.engine.create_task(bad_platform, "a", ""), InvalidArgumentError);
  const auto t = f.task();
  const auto before = f.engine.audit("").size();
  EXPECT_THROW(f.go(t.id, "BOGUS"), InvalidStateError);
  EXPECT_THROW(f.go("no-such-task", "PARSING"), NotFoundError);
  EXPECT_THROW(f.go(t.id, "PARSING", 7), ConcurrencyError);
  EXPECT_EQ(f.engine.audit("").size(), before) << "input errors write nothing";
  EXPECT_EQ(f.engine.get_task(t.id).version, 0);
}

TEST(TaskEngine, GuardViolationsChangeNothingButOneAuditRow) {
  Fixture f;
  const auto t = f.task();
  EXPECT_THROW(f.go(t.id, "COMPLETED"), InvalidTransitionError);
  EXPECT_EQ(f.engine.get_task(t.id).version, 0);
  EXPECT_TRUE(f.engine.history(t.id).empty());
  EXPECT_EQ(f.audits(t.id, "guard.violation"), 1u);
  const auto audit = f.engine.audit(t.id).back();
  const auto details = nlohmann::json::parse(audit.details_json);
  EXPECT_EQ(details.at("error"), "InvalidTransitionError");
  EXPECT_EQ(audit.action, "SUBMITTED → COMPLETED");
}

TEST(TaskEngine, LoopAndRetryLimits) {
  Fixture f;
  const auto t = f.task();
  f.go(t.id, "PARSING");
  f.go(t.id, "PARSE_FAILED");
  f.go(t.id, "PARSING");
  f.go(t.id, "PARSE_FAILED");
  f.go(t.id, "PARSING");  // the third entry
  f.go(t.id, "PARSE_FAILED");
  EXPECT_THROW(f.go(t.id, "PARSING"), LoopDetectedError);
  EXPECT_NO_THROW(f.go(t.id, "CANCELLED")) << "a loop can always be left by cancelling";

  const auto d = f.task();
  for (auto s : {"PARSING", "PARSED", "PLANNING", "PLANNED", "AGENT_ASSIGNMENT", "AGENT_ASSIGNED",
                 "IN_DEVELOPMENT", "DEV_FAILED", "IN_DEVELOPMENT", "DEV_FAILED", "IN_DEVELOPMENT",
                 "DEV_FAILED"}) {
    f.go(d.id, s);
  }
  EXPECT_EQ(f.engine.get_task(d.id).retry_count, 2);
  EXPECT_THROW(f.go(d.id, "IN_DEVELOPMENT"), RetryLimitExceededError);
  EXPECT_EQ(f.audits(d.id, "guard.violation"), 1u);
  EXPECT_TRUE(f.engine.verify(d.id).ok);
}

TEST(TaskEngine, CheckpointsAreWrittenAndNeverStale) {
  Fixture f;
  const auto t = f.task();
  f.go(t.id, "PARSING");
  auto checkpoint = nlohmann::json::parse(f.engine.checkpoint(t.id));
  EXPECT_EQ(checkpoint.at("state"), "PARSING");
  EXPECT_EQ(checkpoint.at("seq"), 1);
  // Plant a stale checkpoint: the engine must fall back to the store.
  f.go(t.id, "PARSED");
  const std::string_view parts[] = {"task", t.id};
  f.wm->set("cp", memory::scoped_key(parts), R"({"state":"PARSING","seq":1})");
  checkpoint = nlohmann::json::parse(f.engine.checkpoint(t.id));
  EXPECT_EQ(checkpoint.at("state"), "PARSED");
  EXPECT_EQ(checkpoint.at("seq"), 2);
}

TEST(TaskEngine, ConcurrentTransitionsHaveOneWinnerPerVersion) {
  Fixture f;
  const auto t = f.task();
  std::atomic<int> wins{0};
  std::atomic<int> conflicts{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      try {
        f.go(t.id, "PARSING", 0);
        ++wins;
      } catch (const ConcurrencyError&) {
        ++conflicts;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(wins.load(), 1);
  EXPECT_EQ(conflicts.load(), 7);
  EXPECT_EQ(f.engine.history(t.id).size(), 1u);
  EXPECT_TRUE(f.engine.verify(t.id).ok);
}

TEST(TaskEngine, TransitionManyIsAllOrNothing) {
  Fixture f;
  const auto a = f.task("a");
  const auto b = f.task("b");
  std::vector<TransitionRequest> batch = {{a.id, "PARSING", "tester", "", "{}", 0, std::nullopt},
                                          {b.id, "PARSING", "tester", "", "{}", 0, std::nullopt},
                                          {a.id, "PARSED", "tester", "", "{}", 1, std::nullopt}};
  const auto moved = f.engine.transition_many(batch, "cid-batch");
  ASSERT_EQ(moved.size(), 3u);
  EXPECT_EQ(moved[2].current_state, "PARSED");
  EXPECT_EQ(f.engine.get_task(a.id).version, 2);
  EXPECT_EQ(f.engine.get_task(b.id).version, 1);

  // The second step is invalid: the first must not stay applied.
  std::vector<TransitionRequest> refused = {
      {a.id, "PLANNING", "tester", "", "{}", {}, std::nullopt},
      {b.id, "COMPLETED", "tester", "", "{}", {}, std::nullopt}};
  EXPECT_THROW(f.engine.transition_many(refused, "cid"), InvalidTransitionError);
  EXPECT_EQ(f.engine.get_task(a.id).current_state, "PARSED");
  EXPECT_EQ(f.engine.history(a.id).size(), 2u);
  EXPECT_EQ(f.audits(b.id, "guard.violation"), 1u);

  std::vector<TransitionRequest> stale = {{a.id, "PLANNING", "tester", "", "{}", 0, std::nullopt}};
  EXPECT_THROW(f.engine.transition_many(stale, "cid"), ConcurrencyError);
  EXPECT_TRUE(f.engine.verify(a.id).ok);
  EXPECT_TRUE(f.engine.verify(b.id).ok);
}
