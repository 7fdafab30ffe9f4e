// The governance half of the engine in C++ (the Python conformance suite covers every
// refusal in detail); here so the sanitizer builds exercise artifacts, approvals, the
// deployment gate, tokens, executions, prune and the local SQL runner.
#include "aadap/core/errors.hpp"
#include "aadap/core/ids.hpp"
#include "aadap/engine/task_engine.hpp"
#include "aadap/platforms/local_sql.hpp"
#include "aadap/store/sqlite_database.hpp"
#include "aadap/store/sqlite_store.hpp"
#include "governed.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>

using namespace aadap;
using namespace aadap::engine;
using aadap::testing::artifact;
using aadap::testing::Governed;

TEST(Governance, GovernedPathToCompletion) {
  Governed g;
  const auto id = g.task();
  const auto code = g.validated(id);
  EXPECT_EQ(code.content_hash.size(), 64u);
  const auto request = g.request(id, "destructive", code.id);
  EXPECT_EQ(request.status, "PENDING");
  EXPECT_EQ(g.engine.get_task(id).current_state, "APPROVAL_PENDING");
  const auto decided = g.engine.decide(request.id, true, "alice", "ok", "cid");
  EXPECT_EQ(decided.status, "APPROVED");
  g.go(id, "DEPLOYING", code.id);
  const auto execution =
      g.engine.start_execution(ExecutionStart{id, "local", code.id, "{}"}, "deployer", "cid");
  EXPECT_EQ(execution.environment, "SANDBOX");
  const auto finished = g.engine.finish_execution(
      ExecutionFinish{execution.id, "SUCCESS", "1 row", std::nullopt, R"({"statement_id": "s1"})"},
      "deployer", "cid");
  EXPECT_EQ(finished.status, "SUCCESS");
  ASSERT_TRUE(finished.duration_ms.has_value());
  g.go(id, "DEPLOYED");
  g.go(id, "COMPLETED");
  EXPECT_TRUE(g.engine.verify(id).ok);
  for (auto type : {"approval.requested", "approval.approved", "artifact.created",
                    "execution.started", "execution.finished"}) {
    EXPECT_GE(g.count(id, type), 1u) << type;
  }
  EXPECT_EQ(g.count(id, "guard.violation"), 0u);
}

TEST(Governance, DeploymentGateRefusesUnapprovedAndStaleCode) {
  Governed g;
  const auto id = g.task();
  const auto code = g.validated(id);
  const auto request = g.request(id, "destructive", code.id);
  g.engine.decide(request.id, true, "alice", "", "cid");
  EXPECT_THROW(g.go(id, "DEPLOYING"), ApprovalRequiredError);  // which code?
  auto edited =
      g.engine.add_artifact(artifact(id, "generated_code", "SELECT 2", code.id), "dev", "cid");
  EXPECT_EQ(edited.version, 2);
  g.engine.record_validation(ValidationResult{edited.id, true, "NONE", "[]", ""}, "v", "cid");
  EXPECT_THROW(g.go(id, "DEPLOYING", edited.id), ApprovalRequiredError);  // not approved
  EXPECT_THROW(g.go(id, "DEPLOYING", code.id), ApprovalRequiredError);    // stale
  EXPECT_EQ(g.count(id, "guard.violation"), 3u);
  EXPECT_EQ(g.engine.get_task(id).current_state, "APPROVED");
  EXPECT_THROW(g.go(id, "APPROVAL_PENDING"), InvalidTransitionError);  // not from APPROVED
}

TEST(Governance, ConcurrentDecisionsHaveOneWinner) {
  Governed g;
  const auto id = g.task();
  const auto code = g.validated(id);
  const auto request = g.request(id, "destructive", code.id);
  std::atomic<int> wins{0};
  std::atomic<int> refused{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      try {
        g.engine.decide(request.id, i % 2 == 0, "reviewer-" + std::to_string(i), "", "cid");
        ++wins;
      } catch (const ApprovalError&) {
        ++refused;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(wins.load(), 1);
  EXPECT_EQ(refused.load(), 3);
  EXPECT_EQ(g.count(id, "guard.violation"), 3u);
  EXPECT_TRUE(g.engine.verify(id).ok);
}

TEST(Governance, TokenBudgetIsAtomicAndExact) {
  Governed g;
  NewTask spec;
  spec.title = "budget";
  spec.token_budget = 100;
  const auto id = g.engine.create_task(spec, "tester", "cid").id;
  g.engine.consume_tokens(TokenCharge{id, 60, 20, "dev"}, "llm", "cid");
  EXPECT_THROW(g.engine.consume_tokens(TokenCharge{id, 21, 0, std::nullopt}, "llm", "cid"),
               TokenBudgetExceededError);
  g.engine.consume_tokens(TokenCharge{id, 20, 0, std::nullopt}, "llm", "cid");
  EXPECT_EQ(g.engine.get_task(id).tokens_used, 100);
  EXPECT_EQ(g.engine.costs(id).size(), 2u);
  EXPECT_EQ(g.count(id, "guard.violation"), 1u);
}

TEST(Governance, PruneKeepsAuditAndRestoresAppendOnly) {
  const auto path = std::filesystem::temp_directory_path() / ("aadap-prune-" + new_uuid4() + ".db");
  {
    Governed g(path.string());
    const auto id = g.task();
    g.go(id, "CANCELLED");
    g.engine.add_artifact(artifact(id, "notes", "x"), "dev", "cid");
    const auto audit_rows = g.engine.audit("").size();
    const auto pruned = g.engine.prune(
        utc_iso(std::chrono::system_clock::now() + std::chrono::seconds(1)), "retention", "cid");
    ASSERT_EQ(pruned.size(), 1u);
    EXPECT_THROW(g.engine.get_task(id), NotFoundError);
    const auto trail = g.engine.audit("");
    EXPECT_EQ(trail.size(), audit_rows + 1);
    EXPECT_EQ(trail.back().event_type, "task.pruned");
    EXPECT_FALSE(trail.front().task_id.has_value());
  }
  store::SqliteDatabase raw(path.string(), SqliteSynchronous::normal);
  EXPECT_THROW(raw.exec("DELETE FROM audit_events"), StoreError);
  EXPECT_THROW(raw.exec("UPDATE audit_events SET actor = 'x'"), StoreError);
  std::filesystem::remove(path);
}

TEST(Governance, LocalSqlRunsScriptsAllOrNothing) {
  const auto path = std::filesystem::temp_directory_path() / ("aadap-local-" + new_uuid4() + ".db");
  const auto result = platforms::run_local_sql(
      path.string(),
      "CREATE TABLE t (id INTEGER, v REAL, s TEXT, b BLOB); "
      "INSERT INTO t VALUES (1, 1.5, 'a', x'00ff'), (2, NULL, NULL, NULL); "
      "SELECT * FROM t ORDER BY id",
      1);
  EXPECT_EQ(result.columns, (std::vector<std::string>{"id", "v", "s", "b"}));
  ASSERT_EQ(result.rows.size(), 1u);
  EXPECT_TRUE(result.truncated);
  EXPECT_EQ(result.rows_changed, 2);
  EXPECT_EQ(std::get<std::int64_t>(result.rows[0][0]), 1);
  EXPECT_EQ(std::get<std::vector<std::uint8_t>>(result.rows[0][3]).size(), 2u);
  EXPECT_THROW(platforms::run_local_sql(path.string(),
                                        "INSERT INTO t VALUES (3, 0, '', NULL); "
                                        "SELECT * FROM missing"),
               PlatformError);
  const auto count = platforms::run_local_sql(path.string(), "SELECT count(*) FROM t");
  EXPECT_EQ(std::get<std::int64_t>(count.rows[0][0]), 2);  // the failed script left nothing
  std::filesystem::remove(path);
}
