// The vector memory tables of the PostgreSQL store (memory.md §2), kept as SqliteStore keeps
// them: `vector_memories` records each memory's dimension and embedder, `memory_entities`
// holds the entities, embeddings as bytea holding the float32 vector in native byte order
// (sent and read back in hex), and `seq` keeps the order entities were first written in
// (SQLite's rowid).
//
// Every operation here is idempotent (reads, whole-row upserts, deletes by id), so a broken
// link is retried once on a fresh connection, even when it broke during COMMIT.
#include "aadap/core/errors.hpp"
#include "aadap/store/embedding_digest.hpp"
#include "aadap/store/postgres_store.hpp"
#include "memory_entity_sql.hpp"
#include "postgres_connection.hpp"
#include "postgres_sql.hpp"

#include <pqxx/pqxx>

#include <array>
#include <string_view>
#include <unordered_set>

namespace aadap::store {

namespace {

using pg::storable;

// Entities are read a page at a time (a result arrives whole: a page of hex at a time, not
// the memory's), all pages in one snapshot.
constexpr std::size_t kRowsPerPage = 1000;

// A page of entities matching `where`, in write order after seq $2. Sorted before the
// embeddings are encoded, so a sort would move references to the stored values rather than
// hex; the outer ORDER BY keeps the subquery's order and costs nothing.
std::string select_page(const std::string& where,
                        EmbeddingRead embeddings = EmbeddingRead::included) {
  return std::string("SELECT id, memory_name, content, ") +
         (embeddings == EmbeddingRead::included ? "encode(embedding, 'hex')" : "''") +
         ", entity_type, provenance, confidence, use_count, validation_pass_rate, "
         "validation_failures, aadap_iso(critical_failure_at), is_deprecated, metadata::text, "
         "aadap_iso(created_at), aadap_iso(updated_at), seq, embedding_digest FROM (SELECT * "
         "FROM memory_entities WHERE memory_name = $1 AND seq > $2" +
         where + " ORDER BY seq LIMIT " + std::to_string(kRowsPerPage) + ") AS e ORDER BY seq";
}

// Many entities in one statement (kEntityUpsertConflict follows): each parameter an array of
// one column, unnested into rows,
// but the embeddings, which come as one bytea ($4, all of them end to end) cut at $5 (where
// each starts, from 1) and $6 (its size in bytes). A bytea in hex is decoded in one pass; an
// array of them would be parsed element by element, about 4 times slower.
constexpr const char* kPutEntities =
    "INSERT INTO memory_entities (id, memory_name, content, embedding, entity_type, provenance, "
    "confidence, use_count, validation_pass_rate, validation_failures, critical_failure_at, "
    "is_deprecated, metadata, created_at, updated_at, embedding_digest) "
    "SELECT id, memory_name, content, substring($4::bytea FROM first FOR size), entity_type, "
    "provenance, confidence, use_count, validation_pass_rate, validation_failures, "
    "critical_failure_at, is_deprecated, metadata, created_at, updated_at, embedding_digest "
    "FROM unnest($1::text[], $2::text[], $3::text[], $5::integer[], $6::integer[], $7::text[], "
    "$8::text[], $9::double precision[], $10::bigint[], $11::double precision[], "
    "$12::bigint[], $13::timestamptz[], $14::boolean[], $15::jsonb[], $16::timestamptz[], "
    "$17::timestamptz[], $18::bigint[]) AS v (id, memory_name, content, first, size, "
    "entity_type, provenance, confidence, use_count, validation_pass_rate, "
    "validation_failures, critical_failure_at, is_deprecated, metadata, created_at, "
    "updated_at, embedding_digest)";

// A statement of the upsert carries at most this many entities and hex digits of embeddings:
// enough that round trips do not count (a few per 10,000 rows of 1536 floats), few enough
// that $4 stays far below the server's 1 GB limit for a value (and $5 within integer) and
// the client's copy of it is modest.
constexpr std::size_t kRowsPerStatement = 2000;
constexpr std::size_t kHexPerStatement = std::size_t{32} << 20;

/// Digit value of a hex character; 16 for anything else.
constexpr std::array<unsigned char, 256> kHexValues = [] {
  std::array<unsigned char, 256> values{};
  values.fill(16);
  for (int c = 0; c < 10; ++c) values['0' + c] = static_cast<unsigned char>(c);
  for (int c = 0; c < 6; ++c) {
    values['a' + c] = static_cast<unsigned char>(10 + c);
    values['A' + c] = static_cast<unsigned char>(10 + c);
  }
  return values;
}();

std::vector<float> embedding_from_hex(const pqxx::field& field, const std::string& id) {
  const std::size_t digits = field.size();
  if (digits % (2 * sizeof(float)) != 0) {
    throw StoreError("the embedding of memory entity " + id + " is not a float32 array (" +
                     std::to_string(digits / 2) + " bytes)");
  }
  std::vector<float> embedding(digits / (2 * sizeof(float)));
  auto* out = reinterpret_cast<unsigned char*>(embedding.data());
  const auto* in = reinterpret_cast<const unsigned char*>(field.c_str());
  unsigned char bad = 0;  // a non-digit (16) leaves its bit here
  for (std::size_t i = 0; i < digits / 2; ++i) {
    const unsigned char high = kHexValues[in[2 * i]];
    const unsigned char low = kHexValues[in[2 * i + 1]];
    bad |= high | low;
    out[i] = static_cast<unsigned char>(high << 4 | (low & 0xf));
  }
  if ((bad & 16) != 0) {
    throw StoreError("the embedding of memory entity " + id + " came back as no hex text");
  }
  return embedding;
}

MemoryEntityRecord read_entity(const pqxx::row& r) {
  MemoryEntityRecord e;
  e.id = r[0].c_str();
  e.memory_name = r[1].c_str();
  e.content = r[2].c_str();
  e.embedding = embedding_from_hex(r[3], e.id);
  e.entity_type = r[4].c_str();
  e.provenance = r[5].c_str();
  e.confidence = r[6].as<double>();
  e.use_count = r[7].as<std::int64_t>();
  e.validation_pass_rate = r[8].as<double>();
  e.validation_failures = r[9].as<std::int64_t>();
  if (!r[10].is_null()) e.critical_failure_at = r[10].c_str();
  e.is_deprecated = r[11].as<bool>();
  e.metadata_json = pg::canonical_json(r[12]);
  e.created_at = r[13].c_str();
  e.updated_at = r[14].c_str();
  if (!r[16].is_null()) e.embedding_digest = r[16].as<std::int64_t>();
  return e;
}

/// Every entity `statement` (a select_page) finds, page after page; `more` are its parameters
/// after $2.
template <class Tx, class... More>
std::vector<MemoryEntityRecord> read_pages(Tx& tx, const std::string& statement,
                                           const std::string& name, const More&... more) {
  std::vector<MemoryEntityRecord> out;
  std::int64_t after = 0;  // seq counts from 1
  for (;;) {
    const pqxx::result rows = tx.exec_prepared(statement, storable(name), after, more...);
    for (const auto& row : rows) out.push_back(read_entity(row));
    if (rows.size() < kRowsPerPage) return out;
    after = rows[rows.size() - 1][15].as<std::int64_t>();
  }
}

/// Where the upsert's statements end (indexes into `entities`). An id may appear once per
/// statement (ON CONFLICT DO UPDATE cannot touch a row twice), so an id seen again starts the
/// next one, and the statements apply in order: the last write of an id wins, as on SQLite.
std::vector<std::size_t> statement_ends(const std::vector<MemoryEntityRecord>& entities) {
  std::vector<std::size_t> ends;
  std::unordered_set<std::string_view> ids;
  std::size_t hex = 0;
  for (std::size_t i = 0; i < entities.size(); ++i) {
    const std::size_t digits = 2 * sizeof(float) * entities[i].embedding.size();
    if (!ids.empty() && (ids.size() == kRowsPerStatement || hex + digits > kHexPerStatement ||
                         ids.count(entities[i].id) != 0)) {
      ends.push_back(i);
      ids.clear();
      hex = 0;
    }
    ids.insert(entities[i].id);
    hex += digits;
  }
  ends.push_back(entities.size());
  return ends;
}

/// Runs one statement of the upsert for entities[begin, end).
template <class Tx>
void put_rows(Tx& tx, const std::string& statement, const std::vector<MemoryEntityRecord>& entities,
              std::size_t begin, std::size_t end) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::size_t bytes = 0;
  for (std::size_t i = begin; i < end; ++i) bytes += sizeof(float) * entities[i].embedding.size();
  std::string embeddings = "\\x";
  embeddings.resize(2 + 2 * bytes);
  char* hex = embeddings.data() + 2;
  std::array<pg::ArrayLiteral, 17> p;  // $1-$3, $5-$18
  std::int64_t first = 1;
  for (std::size_t i = begin; i < end; ++i) {
    const auto& e = entities[i];
    const std::size_t size = sizeof(float) * e.embedding.size();
    const auto* in = reinterpret_cast<const unsigned char*>(e.embedding.data());
    for (std::size_t b = 0; b < size; ++b) {
      *hex++ = kDigits[in[b] >> 4];
      *hex++ = kDigits[in[b] & 0xf];
    }
    p[0].add(e.id);
    p[1].add(e.memory_name);
    p[2].add(e.content);
    p[3].add(first);
    p[4].add(static_cast<std::int64_t>(size));
    p[5].add(e.entity_type);
    p[6].add(e.provenance);
    p[7].add(e.confidence);
    p[8].add(e.use_count);
    p[9].add(e.validation_pass_rate);
    p[10].add(e.validation_failures);
    p[11].add(e.critical_failure_at);
    p[12].add(std::string(e.is_deprecated ? "true" : "false"));
    p[13].add(e.metadata_json);
    p[14].add(e.created_at);
    p[15].add(e.updated_at);
    p[16].add(embedding_digest(e.embedding.data(), e.embedding.size()));
    first += static_cast<std::int64_t>(size);
  }
  std::array<std::string, 17> v;
  for (std::size_t i = 0; i < p.size(); ++i) v[i] = std::move(p[i]).text();
  tx.exec_prepared(statement, v[0], v[1], v[2], embeddings, v[3], v[4], v[5], v[6], v[7], v[8],
                   v[9], v[10], v[11], v[12], v[13], v[14], v[15], v[16]);
}

/// The link broke on the second try too.
[[noreturn]] void broke_twice(const std::exception& error) {
  throw StoreUnavailableError(
      "the connection to PostgreSQL broke, twice; the vector memory operation can be retried "
      "as it is: " +
          pg::clean(error.what()),
      {{"retryable", true}});
}

}  // namespace

template <class Tx, class Work>
void PostgresStore::run_idempotent(Work&& work) {
  for (int attempt = 0;; ++attempt) {
    auto connection = acquire();
    const auto broke = [&](const std::exception& error) {
      connection->broken = true;
      release(std::move(connection));
      if (attempt == 1) broke_twice(error);
    };
    try {
      {
        Tx tx(*connection->connection);  // its destructor rolls back when `work` throws
        work(tx, *connection);
        tx.commit();
      }
      release(std::move(connection));
      return;
    } catch (const pqxx::broken_connection& error) {
      broke(error);
    } catch (const pqxx::in_doubt_error& error) {  // broke during COMMIT
      broke(error);
    } catch (const pqxx::failure&) {
      release(std::move(connection));
      pg::server_failed();
    } catch (...) {
      release(std::move(connection));
      throw;
    }
  }
}

VectorMemoryRecord PostgresStore::open_vector_memory(const VectorMemoryRecord& wanted) {
  VectorMemoryRecord stored;
  // Two statements: a SELECT inside the INSERT's statement would miss the row of a concurrent
  // opener that the INSERT waited for (the statement's snapshot is older than that commit).
  run_idempotent<pqxx::nontransaction>([&](pqxx::nontransaction& tx, Connection& c) {
    tx.exec_prepared(c.prepared("create_vector_memory",
                                "INSERT INTO vector_memories (name, dimension, embedder_provider, "
                                "embedder_model, created_at) VALUES ($1, $2, $3, $4, "
                                "$5::timestamptz) ON CONFLICT (name) DO NOTHING"),
                     storable(wanted.name), wanted.dimension, storable(wanted.embedder_provider),
                     storable(wanted.embedder_model), storable(wanted.created_at));
    const auto rows =
        tx.exec_prepared(c.prepared("vector_memory",
                                    "SELECT name, dimension, embedder_provider, embedder_model, "
                                    "aadap_iso(created_at) FROM vector_memories WHERE name = $1"),
                         wanted.name);
    const auto r = rows.at(0);
    stored =
        VectorMemoryRecord{r[0].c_str(), r[1].as<int>(), r[2].c_str(), r[3].c_str(), r[4].c_str()};
  });
  return stored;
}

std::vector<MemoryEntityRecord> PostgresStore::memory_entities(std::string_view memory_name,
                                                               EmbeddingRead embeddings) {
  const std::string name(memory_name);
  std::vector<MemoryEntityRecord> out;
  using Snapshot = pqxx::transaction<pqxx::isolation_level::repeatable_read>;
  run_idempotent<Snapshot>([&](Snapshot& tx, Connection& c) {
    out = embeddings == EmbeddingRead::included
              ? read_pages(tx, c.prepared("memory_entities", select_page("")), name)
              : read_pages(
                    tx, c.prepared("memory_entity_rows", select_page("", EmbeddingRead::omitted)),
                    name);
  });
  return out;
}

std::vector<MemoryEntityRecord> PostgresStore::memory_entities_by_id(
    std::string_view memory_name, const std::vector<std::string>& ids) {
  if (ids.empty()) return {};
  const std::string name(memory_name);
  pg::ArrayLiteral list;
  for (const auto& id : ids) list.add(id);
  const std::string literal = std::move(list).text();
  std::vector<MemoryEntityRecord> out;
  using Snapshot = pqxx::transaction<pqxx::isolation_level::repeatable_read>;
  run_idempotent<Snapshot>([&](Snapshot& tx, Connection& c) {
    out = read_pages(tx,
                     c.prepared("memory_entities_by_id", select_page(" AND id = ANY($3::text[])")),
                     name, literal);
  });
  return out;
}

void PostgresStore::put_memory_entities(const std::vector<MemoryEntityRecord>& entities) {
  if (entities.empty()) return;
  const auto ends = statement_ends(entities);
  const auto put = [&](auto& tx, Connection& c) {
    const std::string statement =
        c.prepared("put_memory_entities", std::string(kPutEntities) + kEntityUpsertConflict);
    std::size_t begin = 0;
    for (const std::size_t end : ends) {
      put_rows(tx, statement, entities, begin, end);
      begin = end;
    }
  };
  // One statement is a transaction of its own; more are wrapped in BEGIN ... COMMIT.
  if (ends.size() == 1) {
    run_idempotent<pqxx::nontransaction>(put);
  } else {
    run_idempotent<pqxx::work>(put);
  }
}

void PostgresStore::delete_memory_entities(std::string_view memory_name,
                                           const std::vector<std::string>& ids) {
  if (ids.empty()) return;
  const std::string name(memory_name);
  pg::ArrayLiteral list;
  for (const auto& id : ids) list.add(id);
  const std::string literal = std::move(list).text();
  run_idempotent<pqxx::nontransaction>([&](pqxx::nontransaction& tx, Connection& c) {
    tx.exec_prepared(c.prepared("delete_memory_entities",
                                "DELETE FROM memory_entities WHERE memory_name = $1 AND "
                                "id = ANY($2::text[])"),
                     storable(name), literal);
  });
}

MemoryChanges PostgresStore::memory_changes(std::string_view memory_name, std::string_view since) {
  const std::string name(memory_name);
  // Empty asks for every entity, as on SQLite (where every text is >= '').
  const std::string from = since.empty() ? std::string("-infinity") : std::string(since);
  MemoryChanges out;
  // Both reads see one snapshot: a write lands in both or in neither.
  using Snapshot = pqxx::transaction<pqxx::isolation_level::repeatable_read>;
  run_idempotent<Snapshot>([&](Snapshot& tx, Connection& c) {
    out.changed = read_pages(
        tx, c.prepared("memory_changes", select_page(" AND updated_at >= $3::timestamptz")), name,
        storable(from));
    const auto ids = tx.exec_prepared(
        c.prepared("memory_ids", "SELECT id FROM memory_entities WHERE memory_name = $1"), name);
    out.ids.clear();
    out.ids.reserve(ids.size());
    for (const auto& row : ids) out.ids.emplace_back(row[0].c_str());
  });
  return out;
}

}  // namespace aadap::store
