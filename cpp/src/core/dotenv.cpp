#include "aadap/core/dotenv.hpp"

#include "aadap/core/errors.hpp"

#include <fstream>
#include <sstream>

extern char** environ;

namespace aadap {

namespace {

bool is_key_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-';
}

std::string_view trim(std::string_view s) {
  const auto begin = s.find_first_not_of(" \t\r");
  if (begin == std::string_view::npos) return {};
  const auto end = s.find_last_not_of(" \t\r");
  return s.substr(begin, end - begin + 1);
}

}  // namespace

EnvironmentMap parse_dotenv(std::string_view text) {
  EnvironmentMap out;
  std::size_t pos = 0;
  int line_number = 0;
  while (pos < text.size()) {
    ++line_number;
    auto eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = trim(text.substr(pos, eol - pos));
    pos = eol + 1;
    if (line.empty() || line.front() == '#') continue;
    if (line.substr(0, 7) == "export ") line = trim(line.substr(7));
    std::size_t k = 0;
    while (k < line.size() && is_key_char(line[k])) ++k;
    const std::string key(line.substr(0, k));
    std::string_view after = trim(line.substr(k));
    if (key.empty() || after.empty() || after.front() != '=') continue;
    std::string_view raw = trim(after.substr(1));
    std::string value;
    if (!raw.empty() && (raw.front() == '\'' || raw.front() == '"')) {
      const char quote = raw.front();
      const int opened_on = line_number;
      // The value may continue on following lines: scan the original text from the quote.
      const std::size_t quote_at = static_cast<std::size_t>(raw.data() - text.data()) + 1;
      std::size_t i = quote_at;
      bool closed = false;
      while (i < text.size()) {
        const char c = text[i];
        if (c == quote) {
          closed = true;
          break;
        }
        if (quote == '"' && c == '\\' && i + 1 < text.size()) {
          const char next = text[i + 1];
          value += next == 'n' ? '\n' : next == 't' ? '\t' : next == 'r' ? '\r' : next;
          i += 2;
          continue;
        }
        if (c == '\n') ++line_number;
        value += c;
        ++i;
      }
      if (!closed) {
        throw ConfigurationError(".env line " + std::to_string(opened_on) + ": the value of " +
                                     key + " opens a quote that is never closed",
                                 {{"line", opened_on}, {"variable", key}});
      }
      pos = text.find('\n', i);
      pos = pos == std::string_view::npos ? text.size() : pos + 1;
    } else {
      const auto comment = raw.find(" #");
      value = std::string(trim(comment == std::string_view::npos ? raw : raw.substr(0, comment)));
    }
    out[key] = std::move(value);
  }
  return out;
}

EnvironmentMap read_dotenv(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::ostringstream text;
  text << in.rdbuf();
  return parse_dotenv(text.str());
}

EnvironmentMap process_environment() {
  EnvironmentMap out;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    std::string_view item(*entry);
    const auto eq = item.find('=');
    if (eq == std::string_view::npos) continue;
    out.emplace(std::string(item.substr(0, eq)), std::string(item.substr(eq + 1)));
  }
  return out;
}

}  // namespace aadap
