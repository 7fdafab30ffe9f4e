// Structured logging on spdlog. One line per event, JSON or console, with the fields of
// config-and-logging.md §2: timestamp, level, logger, event, app, environment, correlation_id
// and the event's own key/values. Every line passes through redact() before it is written.
//
// Thread-safe. The level check is one relaxed atomic load and nothing is allocated when a
// level is disabled; the active configuration is swapped atomically, so logging never waits on
// a lock held by configuration changes or by a hot path.
#pragma once

#include <spdlog/sinks/sink.h>
#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace aadap {
struct Settings;
}

namespace aadap::log {

/// Numeric values equal Python's logging levels.
enum class Level : int { debug = 10, info = 20, warning = 30, error = 40, critical = 50 };
enum class Format { json, console };

/// "DEBUG" ... "CRITICAL", any case; nullopt when unknown.
std::optional<Level> parse_level(std::string_view name) noexcept;
std::string_view level_name(Level level) noexcept;
std::optional<Format> parse_format(std::string_view name) noexcept;
std::string_view format_name(Format format) noexcept;

struct Config {
  Level level = Level::info;
  Format format = Format::json;
  std::string app = "aadap";
  std::string environment = "development";
};

/// One event as handed to a callback sink (see set_callback). Views are valid during the call.
struct Record {
  Level level;
  std::string_view logger;
  std::string_view event;
  std::string_view correlation_id;  // empty when none
  std::string_view fields_json;     // the event's own fields as a JSON object, redacted
  std::string_view line;            // the fully formatted line, redacted
};
using Callback = std::function<void(const Record&)>;

void configure(const Config& config);
/// Level, format, app and environment from settings.
void configure(const Settings& settings);
Config current_config();

void set_level(Level level) noexcept;
Level level() noexcept;
bool enabled(Level level) noexcept;

/// Where lines go. Default: one stderr sink. Replaces any callback.
void set_sinks(std::vector<spdlog::sink_ptr> sinks);
/// Sends every record to `callback` instead of the sinks (e.g. Python's logging); an empty
/// callback restores the sinks.
void set_callback(Callback callback);

template <class T>
struct Field {
  std::string_view key;
  const T& value;
};
/// A key/value of a log event: logger.info("task.created", cid, kv("task_id", id)).
template <class T>
Field<T> kv(std::string_view key, const T& value) {
  return {key, value};
}

/// A named logger ("aadap.store"). Cheap to copy; thread-safe.
class Logger {
 public:
  explicit Logger(std::string name) : name_(std::move(name)) {}
  const std::string& name() const noexcept { return name_; }

  template <class... T>
  void log(Level lvl, std::string_view event, std::string_view correlation_id,
           const Field<T>&... fields) const {
    if (!enabled(lvl)) return;
    nlohmann::json object = nlohmann::json::object();
    ((object[std::string(fields.key)] = fields.value), ...);
    write(lvl, event, correlation_id, object);
  }
  template <class... T>
  void debug(std::string_view event, std::string_view cid, const Field<T>&... f) const {
    log(Level::debug, event, cid, f...);
  }
  template <class... T>
  void info(std::string_view event, std::string_view cid, const Field<T>&... f) const {
    log(Level::info, event, cid, f...);
  }
  template <class... T>
  void warning(std::string_view event, std::string_view cid, const Field<T>&... f) const {
    log(Level::warning, event, cid, f...);
  }
  template <class... T>
  void error(std::string_view event, std::string_view cid, const Field<T>&... f) const {
    log(Level::error, event, cid, f...);
  }
  template <class... T>
  void critical(std::string_view event, std::string_view cid, const Field<T>&... f) const {
    log(Level::critical, event, cid, f...);
  }

  /// Writes one event whose fields are already a JSON object (used by the Python layer).
  /// Does nothing when the level is disabled.
  void write(Level lvl, std::string_view event, std::string_view correlation_id,
             const nlohmann::json& fields) const;

 private:
  std::string name_;
};

}  // namespace aadap::log
