#include "aadap/core/logging.hpp"

#include "aadap/core/ids.hpp"
#include "aadap/core/published.hpp"
#include "aadap/core/redaction.hpp"
#include "aadap/core/settings.hpp"

#include <spdlog/logger.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <atomic>

namespace aadap::log {

namespace {

struct State {
  Config config;
  std::shared_ptr<spdlog::logger> sink_logger;
  Callback callback;
};

std::shared_ptr<spdlog::logger> make_sink_logger(std::vector<spdlog::sink_ptr> sinks) {
  auto logger = std::make_shared<spdlog::logger>("aadap", sinks.begin(), sinks.end());
  logger->set_pattern("%v");
  logger->set_level(spdlog::level::trace);
  logger->flush_on(spdlog::level::trace);
  return logger;
}

std::atomic<int> g_level{static_cast<int>(Level::info)};

Published<State>& state() {
  static auto* current = new Published<State>(  // never destroyed: logging works during exit
      State{Config{}, make_sink_logger({std::make_shared<spdlog::sinks::stderr_sink_mt>()}), {}});
  return *current;
}

spdlog::level::level_enum to_spdlog(Level level) {
  switch (level) {
    case Level::debug: return spdlog::level::debug;
    case Level::info: return spdlog::level::info;
    case Level::warning: return spdlog::level::warn;
    case Level::error: return spdlog::level::err;
    case Level::critical: return spdlog::level::critical;
  }
  return spdlog::level::info;
}

constexpr std::string_view kReserved[] = {"timestamp", "level",       "logger",        "event",
                                          "app",       "environment", "correlation_id"};

// A field named like one of the line's own keys is kept under "field.<key>".
nlohmann::json without_reserved_keys(const nlohmann::json& fields) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [key, value] : fields.items()) {
    bool reserved = false;
    for (auto name : kReserved) reserved = reserved || key == name;
    out[reserved ? "field." + key : key] = value;
  }
  return out;
}

void append_quoted(std::string& out, std::string_view text) {
  out += nlohmann::json(std::string(text))
             .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string json_line(const Config& config, std::string_view timestamp, Level level,
                      std::string_view logger, std::string_view event, std::string_view cid,
                      const std::string& fields_dump) {
  std::string line;
  line.reserve(160 + fields_dump.size());
  line += "{\"timestamp\":";
  append_quoted(line, timestamp);
  line += ",\"level\":";
  append_quoted(line, level_name(level));
  line += ",\"logger\":";
  append_quoted(line, logger);
  line += ",\"event\":";
  append_quoted(line, event);
  line += ",\"app\":";
  append_quoted(line, config.app);
  line += ",\"environment\":";
  append_quoted(line, config.environment);
  if (!cid.empty()) {
    line += ",\"correlation_id\":";
    append_quoted(line, cid);
  }
  if (fields_dump.size() > 2) {  // not "{}"
    line += ',';
    line.append(fields_dump, 1, std::string::npos);
  } else {
    line += '}';
  }
  return line;
}

std::string console_value(const nlohmann::json& value) {
  if (value.is_string()) {
    const auto& text = value.get_ref<const std::string&>();
    if (!text.empty() && text.find_first_of(" \t\n\"=") == std::string::npos) return text;
  }
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string console_line(const Config& config, std::string_view timestamp, Level level,
                         std::string_view logger, std::string_view event, std::string_view cid,
                         const nlohmann::json& fields) {
  std::string line;
  line.reserve(160);
  line.append(timestamp).append(" ");
  std::string name(level_name(level));
  name.resize(8, ' ');
  line.append(name).append(logger).append(" ").append(event);
  line.append(" app=").append(config.app).append(" environment=").append(config.environment);
  if (!cid.empty()) line.append(" correlation_id=").append(cid);
  for (const auto& [key, value] : fields.items()) {
    line.append(" ").append(key).append("=").append(console_value(value));
  }
  return line;
}

}  // namespace

std::optional<Level> parse_level(std::string_view name) noexcept {
  std::string upper(name);
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (upper == "DEBUG") return Level::debug;
  if (upper == "INFO") return Level::info;
  if (upper == "WARNING") return Level::warning;
  if (upper == "ERROR") return Level::error;
  if (upper == "CRITICAL") return Level::critical;
  return std::nullopt;
}

std::string_view level_name(Level level) noexcept {
  switch (level) {
    case Level::debug: return "DEBUG";
    case Level::info: return "INFO";
    case Level::warning: return "WARNING";
    case Level::error: return "ERROR";
    case Level::critical: return "CRITICAL";
  }
  return "INFO";
}

std::optional<Format> parse_format(std::string_view name) noexcept {
  std::string lower(name);
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "json") return Format::json;
  if (lower == "console") return Format::console;
  return std::nullopt;
}

std::string_view format_name(Format format) noexcept {
  return format == Format::json ? "json" : "console";
}

void configure(const Config& config) {
  state().update([&](State& s) { s.config = config; });
  set_level(config.level);
}

void configure(const Settings& settings) {
  configure(Config{settings.effective_log_level(), settings.log_format, settings.app_name,
                   std::string(environment_name(settings.environment))});
}

Config current_config() {
  return state().get().config;
}

void set_level(Level level) noexcept {
  g_level.store(static_cast<int>(level), std::memory_order_relaxed);
}

Level level() noexcept {
  return static_cast<Level>(g_level.load(std::memory_order_relaxed));
}

bool enabled(Level level) noexcept {
  return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed);
}

void set_sinks(std::vector<spdlog::sink_ptr> sinks) {
  auto logger = make_sink_logger(std::move(sinks));
  state().update([&](State& s) {
    s.sink_logger = logger;
    s.callback = nullptr;
  });
}

void set_callback(Callback callback) {
  state().update([&](State& s) { s.callback = callback; });
}

void Logger::write(Level lvl, std::string_view event, std::string_view correlation_id,
                   const nlohmann::json& fields) const {
  if (!enabled(lvl)) return;
  const State& current = state().get();
  const auto& config = current.config;
  const std::string timestamp = utc_now_iso();
  const nlohmann::json safe_fields = without_reserved_keys(fields);
  const std::string fields_dump =
      safe_fields.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  const std::string line =
      redact(config.format == Format::json
                 ? json_line(config, timestamp, lvl, name_, event, correlation_id, fields_dump)
                 : console_line(config, timestamp, lvl, name_, event, correlation_id, safe_fields));
  if (current.callback) {
    const std::string redacted_fields = redact(fields_dump);
    current.callback(Record{lvl, name_, event, correlation_id, redacted_fields, line});
    return;
  }
  current.sink_logger->log(to_spdlog(lvl), "{}", line);
}

}  // namespace aadap::log
