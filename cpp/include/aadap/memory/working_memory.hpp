// Working memory (memory.md §1): a process-local, namespaced key/value store with TTL.
//
// Keys live in namespaces (wm, cp, tt, sess, plus registered ones), each with a default TTL or
// none. Values are bytes. Expiry is lazy on access and active (a background sweeper, or
// sweep_expired()). Memory is bounded by max_bytes with least-recently-used eviction.
//
// Thread-safe. Entries are spread over shards, each with its own mutex, so threads working on
// different keys rarely meet; no operation takes a global lock. Eviction order is LRU with
// second chance (CLOCK), kept per shard: writes move an entry to the front, reads only mark it,
// and at the tail a marked entry returns to the front once before it can be evicted. Reads
// therefore write nothing but their own entry. With shards == 1 the order is global.
#pragma once

#include "aadap/core/clock.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace aadap {
struct Settings;
}

namespace aadap::memory {

/// Longest key accepted, in bytes.
inline constexpr std::size_t kMaxKeyBytes = 4096;
/// Largest TTL accepted, in seconds (about 136 years).
inline constexpr std::int64_t kMaxTtlSeconds = std::int64_t{1} << 32;
/// What an entry costs beyond its key and value bytes in the max_bytes accounting (the
/// measured overhead of an entry, rounded up).
inline constexpr std::int64_t kEntryOverheadBytes = 64;

/// ttl() results that are not a number of seconds.
inline constexpr std::int64_t kNoExpiry = -1;
inline constexpr std::int64_t kMissing = -2;

struct NamespaceStats {
  std::string name;
  std::optional<std::int64_t> default_ttl_seconds;
  std::int64_t keys = 0;   // entries held, including expired ones not yet reclaimed
  std::int64_t bytes = 0;  // key + value + kEntryOverheadBytes per entry
  std::int64_t hits = 0;
  std::int64_t misses = 0;
  std::int64_t expirations = 0;
  std::int64_t evictions = 0;
};

struct ScanPage {
  std::string cursor;  // pass back to continue; "0" when the scan is complete
  std::vector<std::string> keys;
};

class WorkingMemory {
 public:
  struct Options {
    std::int64_t max_bytes = std::int64_t{1} << 30;
    std::int64_t wm_ttl_seconds = 3600;  // the wm namespace's default TTL
    std::shared_ptr<const Clock> clock;  // default: a SteadyClock
    std::size_t shards = 64;             // rounded up to a power of two
    bool background_sweeper = true;      // reclaim expired entries without access
  };
  /// max_bytes and the wm TTL from AADAP_MEMORY_MAX_BYTES / AADAP_MEMORY_DEFAULT_TTL_SECONDS.
  static Options options_from(const Settings& settings);

  explicit WorkingMemory(Options options);
  WorkingMemory() : WorkingMemory(Options{}) {}
  ~WorkingMemory();
  WorkingMemory(const WorkingMemory&) = delete;
  WorkingMemory& operator=(const WorkingMemory&) = delete;

  /// Adds a namespace (1-64 characters of [A-Za-z0-9_.-]) with a default TTL, or none (keys
  /// then live until deleted or evicted). Re-registering with the same TTL is a no-op; with a
  /// different one it is an error.
  void register_namespace(std::string_view name, std::optional<std::int64_t> default_ttl_seconds);
  std::vector<std::string> namespaces() const;

  /// Stores value under key. ttl_seconds: nullopt = the namespace default; must be > 0.
  void set(std::string_view ns, std::string_view key, std::string_view value,
           std::optional<std::int64_t> ttl_seconds = std::nullopt);
  std::optional<std::string> get(std::string_view ns, std::string_view key);
  /// Like get(), but hands the value to `sink` while the entry is locked, without copying it
  /// first. `sink` must not call back into this WorkingMemory. Returns false on a miss.
  using ValueSink = std::function<void(std::string_view)>;
  bool read(std::string_view ns, std::string_view key, const ValueSink& sink);
  /// True if a live key was removed.
  bool remove(std::string_view ns, std::string_view key);
  bool exists(std::string_view ns, std::string_view key);
  /// Remaining seconds rounded up, kNoExpiry (-1) or kMissing (-2).
  std::int64_t ttl(std::string_view ns, std::string_view key);
  /// Sets a new TTL on a live key; false if there is none.
  bool expire(std::string_view ns, std::string_view key, std::int64_t ttl_seconds);
  /// Removes a live key's expiry; false if there is no live key.
  bool persist(std::string_view ns, std::string_view key);
  /// Adds delta to the ASCII decimal integer stored under key (0 when missing, stored with the
  /// namespace default TTL; an existing key keeps its TTL). Atomic. Returns the new value.
  std::int64_t incr(std::string_view ns, std::string_view key, std::int64_t delta = 1);

  /// read() for many keys of one namespace: sink(i, value) for each key i that is live.
  using IndexedValueSink = std::function<void(std::size_t, std::string_view)>;
  void read_many(std::string_view ns, std::span<const std::string_view> keys,
                 const IndexedValueSink& sink);
  std::vector<std::optional<std::string>> mget(std::string_view ns,
                                               std::span<const std::string_view> keys);
  /// All-or-nothing validation, then every item stored with the same TTL rule as set().
  void mset(std::string_view ns,
            std::span<const std::pair<std::string_view, std::string_view>> items,
            std::optional<std::int64_t> ttl_seconds = std::nullopt);

  /// Up to about `count` entries examined from `cursor` ("0" to start); returns the live keys
  /// matching the glob `pattern` (`*`, `?`, `[abc]`, `[a-z]`, `[!x]`, backslash escapes). A
  /// key that exists for the whole scan is returned exactly once.
  ScanPage scan(std::string_view ns, std::string_view pattern, std::string_view cursor,
                std::size_t count = 100);
  /// Live keys in the namespace (an exact pass over the shards).
  std::int64_t keys_count(std::string_view ns);
  /// Removes every key of the namespace; returns how many live keys there were.
  std::int64_t clear(std::string_view ns);
  std::vector<NamespaceStats> stats();
  /// One full pass of active expiry; returns the number of entries reclaimed.
  std::int64_t sweep_expired();
  bool ping() const noexcept { return true; }

  std::int64_t max_bytes() const noexcept;
  std::size_t shard_count() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Joins parts with ':' after escaping '\' and ':' in each, so agent:a:b and (agent:a, b)
/// cannot produce the same key: scoped_key({"agent", "a:b"}) == "agent:a\:b".
std::string scoped_key(std::span<const std::string_view> parts);

}  // namespace aadap::memory
