#include "aadap/memory/working_memory.hpp"

#include "aadap/core/errors.hpp"
#include "aadap/core/published.hpp"
#include "aadap/core/settings.hpp"
#include "aadap/memory/glob.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>
#include <mutex>
#include <thread>

namespace aadap::memory {

namespace {

constexpr std::uint32_t kNil = std::numeric_limits<std::uint32_t>::max();
constexpr Nanos kForever = std::numeric_limits<Nanos>::max();
constexpr Nanos kNanosPerSecond = 1'000'000'000;
constexpr std::size_t kMaxNamespaces = std::numeric_limits<std::uint16_t>::max();

// One entry. Key and value share one allocation; slots never move, which is what lets a scan
// cursor be a slot number. 40 bytes.
//
// Recency is CLOCK-style (second chance): a read only sets `referenced` in its own slot instead
// of relinking the LRU list, so concurrent readers do not write each other's cache lines; at
// the tail, a referenced entry goes back to the front once before it can be evicted. Writes
// move the entry to the front.
struct Slot {
  char* data = nullptr;
  std::uint32_t key_len = 0;
  std::uint32_t value_len = 0;
  Nanos expires_at = kForever;
  std::uint32_t prev = kNil;  // LRU neighbour towards the most recent entry
  std::uint32_t next = kNil;  // LRU neighbour towards the least recent (or free-list link)
  std::uint32_t hash = 0;
  std::uint16_t ns = 0;
  bool live = false;
  bool referenced = false;  // used since it last reached the LRU tail (second chance)

  std::string_view key() const noexcept { return {data, key_len}; }
  std::string_view value() const noexcept { return {data + key_len, value_len}; }
  std::int64_t bytes() const noexcept {
    return static_cast<std::int64_t>(key_len) + value_len + kEntryOverheadBytes;
  }
};

// Cache-line aligned, like Shard: counters of different shards are written by different
// threads and must not share a line.
struct alignas(64) Counters {
  std::int64_t keys = 0;
  std::int64_t bytes = 0;
  std::int64_t hits = 0;
  std::int64_t misses = 0;
  std::int64_t expirations = 0;
  std::int64_t evictions = 0;
};

struct NamespaceInfo {
  std::string name;
  std::optional<std::int64_t> default_ttl_seconds;
};
using NamespaceTable = std::vector<NamespaceInfo>;

std::uint64_t mix(std::uint64_t x) noexcept {  // splitmix64 finaliser
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::uint64_t hash_of(std::uint16_t ns, std::string_view key) noexcept {
  return mix(std::hash<std::string_view>{}(key) + 0x9e3779b97f4a7c15ULL * (ns + 1));
}

// A shard: an open-addressing index (linear probing, backward-shift deletion) over a vector
// of slots, an intrusive LRU list and per-namespace counters. Every member is guarded by
// `mutex`. Aligned so that two shards never share a cache line.
struct alignas(64) Shard {
  std::mutex mutex;
  std::vector<Slot> slots;
  std::vector<std::uint32_t> index;  // slot numbers; kNil = empty bucket
  std::uint32_t mask = 0;
  std::uint32_t count = 0;
  std::uint32_t free_head = kNil;
  std::uint32_t lru_head = kNil;  // most recently used
  std::uint32_t lru_tail = kNil;  // least recently used
  std::uint32_t sweep_position = 0;
  std::vector<Counters> counters;  // by namespace id

  Shard() = default;
  Shard(const Shard&) = delete;
  Shard& operator=(const Shard&) = delete;
  ~Shard() {
    for (auto& slot : slots) std::free(slot.data);
  }

  Counters& counters_for(std::uint16_t ns) {
    if (ns >= counters.size()) counters.resize(ns + 1);
    return counters[ns];
  }

  // The bucket holding (ns, key), or the empty bucket where it would go; `slot` is kNil then.
  std::uint32_t find(std::uint16_t ns, std::string_view key, std::uint32_t hash,
                     std::uint32_t& slot) const noexcept {
    slot = kNil;
    if (index.empty()) return 0;
    for (std::uint32_t b = hash & mask;; b = (b + 1) & mask) {
      const std::uint32_t s = index[b];
      if (s == kNil) return b;
      const Slot& candidate = slots[s];
      if (candidate.hash == hash && candidate.ns == ns && candidate.key_len == key.size() &&
          std::memcmp(candidate.data, key.data(), key.size()) == 0) {
        slot = s;
        return b;
      }
    }
  }

  std::uint32_t bucket_of(std::uint32_t s) const noexcept {
    std::uint32_t b = slots[s].hash & mask;
    while (index[b] != s) b = (b + 1) & mask;
    return b;
  }

  void lru_unlink(std::uint32_t s) noexcept {
    Slot& slot = slots[s];
    (slot.prev == kNil ? lru_head : slots[slot.prev].next) = slot.next;
    (slot.next == kNil ? lru_tail : slots[slot.next].prev) = slot.prev;
    slot.prev = slot.next = kNil;
  }

  void lru_push_front(std::uint32_t s) noexcept {
    Slot& slot = slots[s];
    slot.prev = kNil;
    slot.next = lru_head;
    if (lru_head != kNil) slots[lru_head].prev = s;
    lru_head = s;
    if (lru_tail == kNil) lru_tail = s;
  }

  void touch(std::uint32_t s) noexcept {
    if (lru_head == s) return;
    lru_unlink(s);
    lru_push_front(s);
  }

  void mark_used(std::uint32_t s) noexcept {
    if (!slots[s].referenced) slots[s].referenced = true;
  }

  // The entry to evict: the least recently used one that has not been read since it last
  // reached the tail. Referenced entries on the way get their second chance.
  std::uint32_t eviction_victim() noexcept {
    while (lru_tail != kNil && slots[lru_tail].referenced) {
      const std::uint32_t s = lru_tail;
      slots[s].referenced = false;
      touch(s);
    }
    return lru_tail;
  }

  void grow() {
    const std::size_t capacity = index.empty() ? 16 : index.size() * 2;
    index.assign(capacity, kNil);
    mask = static_cast<std::uint32_t>(capacity - 1);
    for (std::uint32_t s = 0; s < slots.size(); ++s) {
      if (!slots[s].live) continue;
      std::uint32_t b = slots[s].hash & mask;
      while (index[b] != kNil) b = (b + 1) & mask;
      index[b] = s;
    }
  }

  // Removes the index entry at bucket b, shifting later entries of the probe run back.
  void unindex(std::uint32_t b) noexcept {
    std::uint32_t hole = b;
    for (std::uint32_t j = (b + 1) & mask;; j = (j + 1) & mask) {
      const std::uint32_t s = index[j];
      if (s == kNil) break;
      const std::uint32_t home = slots[s].hash & mask;
      const bool stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
      if (!stays) {
        index[hole] = s;
        hole = j;
      }
    }
    index[hole] = kNil;
  }

  // Returns the bytes released.
  std::int64_t erase(std::uint32_t bucket, std::uint32_t s) noexcept {
    Slot& slot = slots[s];
    const std::int64_t bytes = slot.bytes();
    Counters& c = counters_for(slot.ns);
    c.keys -= 1;
    c.bytes -= bytes;
    unindex(bucket);
    lru_unlink(s);
    std::free(slot.data);
    slot = Slot{};
    slot.next = free_head;
    free_head = s;
    --count;
    return bytes;
  }

  // Stores a new entry; returns its slot. The caller found `bucket` empty with find().
  std::uint32_t insert(std::uint32_t bucket, std::uint16_t ns, std::string_view key,
                       std::string_view value, std::uint32_t hash, Nanos expires_at) {
    char* data = static_cast<char*>(std::malloc(key.size() + value.size() + 1));
    if (data == nullptr) throw std::bad_alloc();
    std::memcpy(data, key.data(), key.size());
    if (!value.empty()) std::memcpy(data + key.size(), value.data(), value.size());
    if ((count + 1) * 4 > index.size() * 3) {  // keep the load factor under 0.75
      grow();
      std::uint32_t unused = kNil;
      bucket = find(ns, key, hash, unused);
    }
    std::uint32_t s = free_head;
    if (s != kNil) {
      free_head = slots[s].next;
    } else {
      s = static_cast<std::uint32_t>(slots.size());
      slots.emplace_back();
    }
    Slot& slot = slots[s];
    slot.data = data;
    slot.key_len = static_cast<std::uint32_t>(key.size());
    slot.value_len = static_cast<std::uint32_t>(value.size());
    slot.expires_at = expires_at;
    slot.hash = hash;
    slot.ns = ns;
    slot.live = true;
    index[bucket] = s;
    lru_push_front(s);
    ++count;
    Counters& c = counters_for(ns);
    c.keys += 1;
    c.bytes += slot.bytes();
    return s;
  }

  // Replaces the value of a live slot; returns the change in bytes.
  std::int64_t replace_value(std::uint32_t s, std::string_view value) {
    Slot& slot = slots[s];
    const std::int64_t delta = static_cast<std::int64_t>(value.size()) - slot.value_len;
    if (value.size() != slot.value_len) {
      char* data = static_cast<char*>(std::malloc(slot.key_len + value.size() + 1));
      if (data == nullptr) throw std::bad_alloc();
      std::memcpy(data, slot.data, slot.key_len);
      std::free(slot.data);
      slot.data = data;
      slot.value_len = static_cast<std::uint32_t>(value.size());
    }
    if (!value.empty()) std::memcpy(slot.data + slot.key_len, value.data(), value.size());
    counters_for(slot.ns).bytes += delta;
    return delta;
  }
};

std::size_t round_up_power_of_two(std::size_t n) {
  std::size_t p = 1;
  while (p < n) p <<= 1;
  return p;
}

void check_ttl(std::int64_t ttl_seconds) {
  if (ttl_seconds <= 0 || ttl_seconds > kMaxTtlSeconds) {
    throw InvalidArgumentError(
        "ttl must be a positive number of seconds up to " + std::to_string(kMaxTtlSeconds) +
            " (got " + std::to_string(ttl_seconds) +
            "); omit it for the namespace default (a key that is dead on arrival is a bug)",
        {{"ttl", ttl_seconds}});
  }
}

void check_key(std::string_view key) {
  if (key.size() > kMaxKeyBytes) {
    throw InvalidArgumentError("key of " + std::to_string(key.size()) +
                                   " bytes is longer than the maximum of " +
                                   std::to_string(kMaxKeyBytes),
                               {{"key_bytes", key.size()}});
  }
}

void check_namespace_name(std::string_view name) {
  const bool ok =
      !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
      });
  if (!ok) {
    throw InvalidArgumentError("invalid namespace name '" + std::string(name.substr(0, 80)) +
                               "': use 1 to 64 characters of A-Z a-z 0-9 _ . -");
  }
}

std::optional<std::int64_t> parse_integer(std::string_view text) noexcept {
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

}  // namespace

struct WorkingMemory::Impl {
  std::int64_t max_bytes;
  std::shared_ptr<const Clock> clock;
  std::vector<std::unique_ptr<Shard>> shards;
  std::size_t shard_mask;
  std::atomic<std::int64_t> total_bytes{0};
  Published<NamespaceTable> namespaces;
  std::mutex register_mutex;

  std::mutex sweeper_mutex;
  std::condition_variable sweeper_wake;
  bool stopping = false;
  std::thread sweeper;

  struct Located {
    Shard& shard;
    std::uint16_t ns;
    std::uint32_t hash;
  };

  std::uint16_t namespace_id(std::string_view name) const {
    const NamespaceTable& table = namespaces.get();
    for (std::size_t i = 0; i < table.size(); ++i) {
      if (table[i].name == name) return static_cast<std::uint16_t>(i);
    }
    std::string known;
    for (const auto& info : table) known += (known.empty() ? "" : ", ") + info.name;
    throw InvalidArgumentError("unknown namespace '" + std::string(name.substr(0, 80)) +
                                   "': registered are " + known +
                                   " (register_namespace() adds one)",
                               {{"namespace", std::string(name.substr(0, 80))}});
  }

  Located locate(std::string_view ns, std::string_view key) {
    return locate_in(namespace_id(ns), key);
  }

  Located locate_in(std::uint16_t id, std::string_view key) {
    check_key(key);
    const std::uint64_t h = hash_of(id, key);
    return Located{*shards[(h >> 40) & shard_mask], id, static_cast<std::uint32_t>(h)};
  }

  // Batches visit shard by shard, taking each shard's lock once: `visit(at, i)` is called
  // for every key i, under the lock of at.shard.
  template <class Visit>
  void for_each_by_shard(std::uint16_t id, std::size_t n,
                         const std::function<std::string_view(std::size_t)>& key_at,
                         Visit&& visit) {
    std::vector<std::uint64_t> hashes(n);
    std::vector<std::uint32_t> starts(shards.size() + 1, 0);
    for (std::size_t i = 0; i < n; ++i) {
      hashes[i] = hash_of(id, key_at(i));
      ++starts[((hashes[i] >> 40) & shard_mask) + 1];
    }
    for (std::size_t k = 1; k < starts.size(); ++k) starts[k] += starts[k - 1];
    std::vector<std::uint32_t> order(n);
    std::vector<std::uint32_t> fill(starts.begin(), starts.end() - 1);
    for (std::size_t i = 0; i < n; ++i) {
      order[fill[(hashes[i] >> 40) & shard_mask]++] = static_cast<std::uint32_t>(i);
    }
    for (std::size_t k = 0; k < shards.size(); ++k) {
      if (starts[k] == starts[k + 1]) continue;
      Shard& shard = *shards[k];
      std::lock_guard lock(shard.mutex);
      for (std::uint32_t j = starts[k]; j < starts[k + 1]; ++j) {
        const std::uint32_t i = order[j];
        visit(Located{shard, id, static_cast<std::uint32_t>(hashes[i])}, i);
      }
    }
  }

  // get() for a resolved location, lock held: hands the value to sink.
  template <class Sink>
  bool read_locked(const Located& at, std::string_view key, Sink&& sink) {
    std::uint32_t bucket = 0;
    const std::uint32_t s = find_live(at.shard, at, key, clock->now(), bucket);
    Counters& c = at.shard.counters_for(at.ns);
    if (s == kNil) {
      c.misses += 1;
      return false;
    }
    c.hits += 1;
    at.shard.mark_used(s);
    sink(at.shard.slots[s].value());
    return true;
  }

  Nanos expiry_for(std::uint16_t ns, std::optional<std::int64_t> ttl_seconds, Nanos now) const {
    if (ttl_seconds) {
      check_ttl(*ttl_seconds);
      return now + *ttl_seconds * kNanosPerSecond;
    }
    const auto& fallback = namespaces.get()[ns].default_ttl_seconds;
    return fallback ? now + *fallback * kNanosPerSecond : kForever;
  }

  void check_value(std::string_view key, std::string_view value) const {
    const std::int64_t bytes =
        static_cast<std::int64_t>(key.size() + value.size()) + kEntryOverheadBytes;
    if (bytes > max_bytes || value.size() > std::numeric_limits<std::uint32_t>::max()) {
      throw InvalidArgumentError("an entry of " + std::to_string(bytes) +
                                     " bytes cannot fit in max_bytes=" + std::to_string(max_bytes),
                                 {{"entry_bytes", bytes}});
    }
  }

  // Finds a live entry, reclaiming it if it has expired. Lock held.
  std::uint32_t find_live(Shard& shard, const Located& at, std::string_view key, Nanos now,
                          std::uint32_t& bucket) {
    std::uint32_t s = kNil;
    bucket = shard.find(at.ns, key, at.hash, s);
    if (s != kNil && shard.slots[s].expires_at <= now) {
      total_bytes.fetch_sub(shard.erase(bucket, s), std::memory_order_relaxed);
      shard.counters_for(at.ns).expirations += 1;
      s = kNil;
      bucket = shard.find(at.ns, key, at.hash, s);
    }
    return s;
  }

  // Stores with the shard lock held; evictions happen after unlocking (enforce_budget).
  void store_locked(const Located& at, std::string_view key, std::string_view value,
                    Nanos expires_at, Nanos now) {
    Shard& shard = at.shard;
    std::uint32_t bucket = 0;
    const std::uint32_t s = find_live(shard, at, key, now, bucket);
    if (s != kNil) {
      total_bytes.fetch_add(shard.replace_value(s, value), std::memory_order_relaxed);
      shard.slots[s].expires_at = expires_at;
      shard.touch(s);
    } else {
      const std::uint32_t added = shard.insert(bucket, at.ns, key, value, at.hash, expires_at);
      total_bytes.fetch_add(shard.slots[added].bytes(), std::memory_order_relaxed);
    }
  }

  // Evicts least recently used entries until the budget holds, one shard lock at a time
  // (never two at once, so evictions cannot deadlock with each other).
  void enforce_budget(const Shard* start) {
    if (total_bytes.load(std::memory_order_relaxed) <= max_bytes) return;
    std::size_t first = 0;
    while (shards[first].get() != start) ++first;
    for (std::size_t k = 0; k < shards.size(); ++k) {
      Shard& shard = *shards[(first + k) & shard_mask];
      std::lock_guard lock(shard.mutex);
      while (total_bytes.load(std::memory_order_relaxed) > max_bytes && shard.lru_tail != kNil) {
        const std::uint32_t s = shard.eviction_victim();
        const std::uint16_t ns = shard.slots[s].ns;
        const bool expired = shard.slots[s].expires_at <= clock->now();
        total_bytes.fetch_sub(shard.erase(shard.bucket_of(s), s), std::memory_order_relaxed);
        auto& c = shard.counters_for(ns);
        (expired ? c.expirations : c.evictions) += 1;
      }
      if (total_bytes.load(std::memory_order_relaxed) <= max_bytes) return;
    }
  }

  // Examines up to `budget` slots of a shard from its sweep position. Returns entries reclaimed.
  std::int64_t sweep_shard(Shard& shard, std::size_t budget, Nanos now) {
    std::lock_guard lock(shard.mutex);
    std::int64_t reclaimed = 0;
    const std::size_t total = shard.slots.size();
    for (std::size_t n = 0; n < budget && n < total; ++n) {
      if (shard.sweep_position >= total) shard.sweep_position = 0;
      const std::uint32_t s = shard.sweep_position++;
      const Slot& slot = shard.slots[s];
      if (slot.live && slot.expires_at <= now) {
        const std::uint16_t ns = slot.ns;
        total_bytes.fetch_sub(shard.erase(shard.bucket_of(s), s), std::memory_order_relaxed);
        shard.counters_for(ns).expirations += 1;
        ++reclaimed;
      }
    }
    return reclaimed;
  }

  void sweeper_loop() {
    constexpr std::size_t kSample = 256;
    std::unique_lock lock(sweeper_mutex);
    while (!sweeper_wake.wait_for(lock, std::chrono::milliseconds(100), [&] { return stopping; })) {
      lock.unlock();
      for (auto& shard : shards) {
        // Like Redis: keep going while a sample finds many expired entries.
        for (int round = 0; round < 16; ++round) {
          if (sweep_shard(*shard, kSample, clock->now()) * 4 < static_cast<std::int64_t>(kSample)) {
            break;
          }
        }
      }
      lock.lock();
    }
  }
};

WorkingMemory::Options WorkingMemory::options_from(const Settings& settings) {
  Options options;
  options.max_bytes = settings.memory_max_bytes;
  options.wm_ttl_seconds = settings.memory_default_ttl_seconds;
  return options;
}

WorkingMemory::WorkingMemory(Options options) : impl_(std::make_unique<Impl>()) {
  if (options.max_bytes < kEntryOverheadBytes) {
    throw InvalidArgumentError("max_bytes must be at least " + std::to_string(kEntryOverheadBytes) +
                               " (got " + std::to_string(options.max_bytes) + ")");
  }
  check_ttl(options.wm_ttl_seconds);
  if (options.shards == 0 || options.shards > 4096) {
    throw InvalidArgumentError("shards must be from 1 to 4096 (got " +
                               std::to_string(options.shards) + ")");
  }
  impl_->max_bytes = options.max_bytes;
  impl_->clock = options.clock ? options.clock : std::make_shared<SteadyClock>();
  const std::size_t shards = round_up_power_of_two(options.shards);
  impl_->shard_mask = shards - 1;
  for (std::size_t i = 0; i < shards; ++i) impl_->shards.push_back(std::make_unique<Shard>());
  impl_->namespaces.update([&](NamespaceTable& table) {
    table = {{"wm", options.wm_ttl_seconds}, {"cp", 86400}, {"tt", 7200}, {"sess", 3600}};
  });
  if (options.background_sweeper) {
    impl_->sweeper = std::thread([impl = impl_.get()] { impl->sweeper_loop(); });
  }
}

WorkingMemory::~WorkingMemory() {
  {
    std::lock_guard lock(impl_->sweeper_mutex);
    impl_->stopping = true;
  }
  impl_->sweeper_wake.notify_all();
  if (impl_->sweeper.joinable()) impl_->sweeper.join();
}

void WorkingMemory::register_namespace(std::string_view name,
                                       std::optional<std::int64_t> default_ttl_seconds) {
  check_namespace_name(name);
  if (default_ttl_seconds) check_ttl(*default_ttl_seconds);
  std::lock_guard lock(impl_->register_mutex);
  for (const auto& info : impl_->namespaces.get()) {
    if (info.name != name) continue;
    if (info.default_ttl_seconds == default_ttl_seconds) return;
    throw InvalidArgumentError("namespace '" + std::string(name) +
                               "' is already registered with a different default TTL");
  }
  if (impl_->namespaces.get().size() >= kMaxNamespaces) {
    throw InvalidArgumentError("too many namespaces (the maximum is " +
                               std::to_string(kMaxNamespaces) + ")");
  }
  impl_->namespaces.update([&](NamespaceTable& table) {
    table.push_back({std::string(name), default_ttl_seconds});
  });
}

std::vector<std::string> WorkingMemory::namespaces() const {
  std::vector<std::string> out;
  for (const auto& info : impl_->namespaces.get()) out.push_back(info.name);
  return out;
}

void WorkingMemory::set(std::string_view ns, std::string_view key, std::string_view value,
                        std::optional<std::int64_t> ttl_seconds) {
  const auto at = impl_->locate(ns, key);
  impl_->check_value(key, value);
  const Nanos now = impl_->clock->now();
  const Nanos expires_at = impl_->expiry_for(at.ns, ttl_seconds, now);
  {
    std::lock_guard lock(at.shard.mutex);
    impl_->store_locked(at, key, value, expires_at, now);
  }
  impl_->enforce_budget(&at.shard);
}

std::optional<std::string> WorkingMemory::get(std::string_view ns, std::string_view key) {
  std::optional<std::string> out;
  read(ns, key, [&](std::string_view value) { out.emplace(value); });
  return out;
}

bool WorkingMemory::read(std::string_view ns, std::string_view key, const ValueSink& sink) {
  const auto at = impl_->locate(ns, key);
  std::lock_guard lock(at.shard.mutex);
  return impl_->read_locked(at, key, sink);
}

void WorkingMemory::read_many(std::string_view ns, std::span<const std::string_view> keys,
                              const IndexedValueSink& sink) {
  const std::uint16_t id = impl_->namespace_id(ns);
  for (const auto key : keys) check_key(key);
  impl_->for_each_by_shard(
      id, keys.size(), [&](std::size_t i) { return keys[i]; },
      [&](const Impl::Located& at, std::size_t i) {
        impl_->read_locked(at, keys[i], [&](std::string_view value) { sink(i, value); });
      });
}

bool WorkingMemory::remove(std::string_view ns, std::string_view key) {
  const auto at = impl_->locate(ns, key);
  std::lock_guard lock(at.shard.mutex);
  std::uint32_t bucket = 0;
  const std::uint32_t s = impl_->find_live(at.shard, at, key, impl_->clock->now(), bucket);
  if (s == kNil) return false;
  impl_->total_bytes.fetch_sub(at.shard.erase(bucket, s), std::memory_order_relaxed);
  return true;
}

bool WorkingMemory::exists(std::string_view ns, std::string_view key) {
  const auto at = impl_->locate(ns, key);
  std::lock_guard lock(at.shard.mutex);
  std::uint32_t bucket = 0;
  return impl_->find_live(at.shard, at, key, impl_->clock->now(), bucket) != kNil;
}

std::int64_t WorkingMemory::ttl(std::string_view ns, std::string_view key) {
  const auto at = impl_->locate(ns, key);
  std::lock_guard lock(at.shard.mutex);
  std::uint32_t bucket = 0;
  const Nanos now = impl_->clock->now();
  const std::uint32_t s = impl_->find_live(at.shard, at, key, now, bucket);
  if (s == kNil) return kMissing;
  const Nanos expires_at = at.shard.slots[s].expires_at;
  if (expires_at == kForever) return kNoExpiry;
  return (expires_at - now + kNanosPerSecond - 1) / kNanosPerSecond;  // ceiling
}

bool WorkingMemory::expire(std::string_view ns, std::string_view key, std::int64_t ttl_seconds) {
  check_ttl(ttl_seconds);
  const auto at = impl_->locate(ns, key);
  std::lock_guard lock(at.shard.mutex);
  std::uint32_t bucket = 0;
  const Nanos now = impl_->clock->now();
  const std::uint32_t s = impl_->find_live(at.shard, at, key, now, bucket);
  if (s == kNil) return false;
  at.shard.slots[s].expires_at = now + ttl_seconds * kNanosPerSecond;
  return true;
}

bool WorkingMemory::persist(std::string_view ns, std::string_view key) {
  const auto at = impl_->locate(ns, key);
  std::lock_guard lock(at.shard.mutex);
  std::uint32_t bucket = 0;
  const std::uint32_t s = impl_->find_live(at.shard, at, key, impl_->clock->now(), bucket);
  if (s == kNil) return false;
  at.shard.slots[s].expires_at = kForever;
  return true;
}

std::int64_t WorkingMemory::incr(std::string_view ns, std::string_view key, std::int64_t delta) {
  const auto at = impl_->locate(ns, key);
  std::int64_t result = 0;
  {
    std::lock_guard lock(at.shard.mutex);
    std::uint32_t bucket = 0;
    const Nanos now = impl_->clock->now();
    const std::uint32_t s = impl_->find_live(at.shard, at, key, now, bucket);
    std::int64_t current = 0;
    if (s != kNil) {
      const auto parsed = parse_integer(at.shard.slots[s].value());
      if (!parsed) {
        throw InvalidArgumentError("the value of '" + std::string(key.substr(0, 80)) +
                                   "' is not a decimal integer, so it cannot be incremented");
      }
      current = *parsed;
    }
    if (__builtin_add_overflow(current, delta, &result)) {
      throw InvalidArgumentError("incrementing '" + std::string(key.substr(0, 80)) + "' by " +
                                 std::to_string(delta) + " would overflow a 64-bit integer");
    }
    char buffer[24];
    const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, result);
    const std::string_view text(buffer, static_cast<std::size_t>(end - buffer));
    if (s != kNil) {
      impl_->total_bytes.fetch_add(at.shard.replace_value(s, text), std::memory_order_relaxed);
      at.shard.touch(s);
    } else {
      const std::uint32_t added = at.shard.insert(bucket, at.ns, key, text, at.hash,
                                                  impl_->expiry_for(at.ns, std::nullopt, now));
      impl_->total_bytes.fetch_add(at.shard.slots[added].bytes(), std::memory_order_relaxed);
    }
  }
  impl_->enforce_budget(&at.shard);
  return result;
}

std::vector<std::optional<std::string>> WorkingMemory::mget(
    std::string_view ns, std::span<const std::string_view> keys) {
  std::vector<std::optional<std::string>> out(keys.size());
  read_many(ns, keys, [&](std::size_t i, std::string_view value) { out[i].emplace(value); });
  return out;
}

void WorkingMemory::mset(std::string_view ns,
                         std::span<const std::pair<std::string_view, std::string_view>> items,
                         std::optional<std::int64_t> ttl_seconds) {
  const std::uint16_t id = impl_->namespace_id(ns);
  if (ttl_seconds) check_ttl(*ttl_seconds);
  for (const auto& [key, value] : items) {  // validate everything before storing anything
    check_key(key);
    impl_->check_value(key, value);
  }
  const Nanos now = impl_->clock->now();
  const Nanos expires_at = impl_->expiry_for(id, ttl_seconds, now);
  impl_->for_each_by_shard(
      id, items.size(), [&](std::size_t i) { return items[i].first; },
      [&](const Impl::Located& at, std::size_t i) {
        impl_->store_locked(at, items[i].first, items[i].second, expires_at, now);
      });
  impl_->enforce_budget(impl_->shards.front().get());
}

ScanPage WorkingMemory::scan(std::string_view ns, std::string_view pattern, std::string_view cursor,
                             std::size_t count) {
  const std::uint16_t id = impl_->namespace_id(ns);
  validate_glob(pattern);
  std::size_t shard = 0;
  std::size_t position = 0;
  if (cursor != "0") {
    const auto dash = cursor.find('-');
    const auto s =
        dash == std::string_view::npos ? std::nullopt : parse_integer(cursor.substr(0, dash));
    const auto p =
        dash == std::string_view::npos ? std::nullopt : parse_integer(cursor.substr(dash + 1));
    if (!s || !p || *s < 0 || *p < 0 || static_cast<std::size_t>(*s) >= impl_->shards.size()) {
      throw InvalidArgumentError("invalid scan cursor '" + std::string(cursor.substr(0, 40)) +
                                 "': pass \"0\" to start and then the cursor each page returns");
    }
    shard = static_cast<std::size_t>(*s);
    position = static_cast<std::size_t>(*p);
  }
  ScanPage page;
  std::size_t examined = 0;
  const std::size_t budget = std::max<std::size_t>(count, 1);
  const Nanos now = impl_->clock->now();
  while (shard < impl_->shards.size() && examined < budget) {
    Shard& current = *impl_->shards[shard];
    std::lock_guard lock(current.mutex);
    for (; position < current.slots.size() && examined < budget; ++position, ++examined) {
      const Slot& slot = current.slots[position];
      if (slot.live && slot.ns == id && slot.expires_at > now && glob_match(pattern, slot.key())) {
        page.keys.emplace_back(slot.key());
      }
    }
    if (position >= current.slots.size()) {
      ++shard;
      position = 0;
    }
  }
  page.cursor =
      shard >= impl_->shards.size() ? "0" : std::to_string(shard) + "-" + std::to_string(position);
  return page;
}

std::int64_t WorkingMemory::keys_count(std::string_view ns) {
  const std::uint16_t id = impl_->namespace_id(ns);
  const Nanos now = impl_->clock->now();
  std::int64_t total = 0;
  for (auto& shard : impl_->shards) {
    std::lock_guard lock(shard->mutex);
    for (const auto& slot : shard->slots)
      total += (slot.live && slot.ns == id && slot.expires_at > now) ? 1 : 0;
  }
  return total;
}

std::int64_t WorkingMemory::clear(std::string_view ns) {
  const std::uint16_t id = impl_->namespace_id(ns);
  const Nanos now = impl_->clock->now();
  std::int64_t removed = 0;
  for (auto& shard : impl_->shards) {
    std::lock_guard lock(shard->mutex);
    for (std::uint32_t s = 0; s < shard->slots.size(); ++s) {
      const Slot& slot = shard->slots[s];
      if (!slot.live || slot.ns != id) continue;
      removed += slot.expires_at > now ? 1 : 0;
      impl_->total_bytes.fetch_sub(shard->erase(shard->bucket_of(s), s), std::memory_order_relaxed);
    }
  }
  return removed;
}

std::vector<NamespaceStats> WorkingMemory::stats() {
  const NamespaceTable& table = impl_->namespaces.get();
  std::vector<NamespaceStats> out(table.size());
  for (std::size_t i = 0; i < table.size(); ++i) {
    out[i].name = table[i].name;
    out[i].default_ttl_seconds = table[i].default_ttl_seconds;
  }
  for (auto& shard : impl_->shards) {
    std::lock_guard lock(shard->mutex);
    for (std::size_t i = 0; i < shard->counters.size() && i < out.size(); ++i) {
      const Counters& c = shard->counters[i];
      out[i].keys += c.keys;
      out[i].bytes += c.bytes;
      out[i].hits += c.hits;
      out[i].misses += c.misses;
      out[i].expirations += c.expirations;
      out[i].evictions += c.evictions;
    }
  }
  return out;
}

std::int64_t WorkingMemory::sweep_expired() {
  std::int64_t reclaimed = 0;
  const Nanos now = impl_->clock->now();
  for (auto& shard : impl_->shards) {
    const std::size_t size = [&] {
      std::lock_guard lock(shard->mutex);
      return shard->slots.size();
    }();
    reclaimed += impl_->sweep_shard(*shard, size, now);
  }
  return reclaimed;
}

std::int64_t WorkingMemory::max_bytes() const noexcept {
  return impl_->max_bytes;
}

std::size_t WorkingMemory::shard_count() const noexcept {
  return impl_->shards.size();
}

std::string scoped_key(std::span<const std::string_view> parts) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += ':';
    for (char c : parts[i]) {
      if (c == '\\' || c == ':') out += '\\';
      out += c;
    }
  }
  return out;
}

}  // namespace aadap::memory
