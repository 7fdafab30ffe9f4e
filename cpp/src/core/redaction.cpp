#include "aadap/core/redaction.hpp"

#include "aadap/core/published.hpp"

#include <algorithm>
#include <array>
#include <vector>

namespace aadap {

namespace {

using SecretList = std::vector<std::string>;

Published<SecretList>& registry() {
  static auto* list = new Published<SecretList>();  // never destroyed: used during exit
  return *list;
}

char lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool is_word_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

bool is_token_char(char c) noexcept {
  return is_word_char(c) || c == '.' || c == '~' || c == '+' || c == '/' || c == '=';
}

bool is_hex(char c) noexcept {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return lower(x) == lower(y); });
}

// A key whose value is a credential: exact names, or names ending in a credential suffix
// (AADAP_DATABRICKS_TOKEN, client_secret). Dashes count as underscores (api-key == api_key).
bool is_sensitive_key(std::string_view word) {
  if (word.size() > 64) return false;
  std::string key(word.size(), '\0');
  std::transform(word.begin(), word.end(), key.begin(),
                 [](char c) { return c == '-' ? '_' : lower(c); });
  static constexpr std::array<std::string_view, 17> exact{
      "password",    "passwd",        "pwd",
      "secret",      "token",         "api_key",
      "apikey",      "authorization", "proxy_authorization",
      "sig",         "signature",     "credential",
      "credentials", "private_key",   "ocp_apim_subscription_key",
      "x_api_key",   "assertion"};
  if (std::find(exact.begin(), exact.end(), key) != exact.end()) return true;
  static constexpr std::array<std::string_view, 5> suffixes{"_token", "_secret", "_password",
                                                            "_api_key", "_apikey"};
  return std::any_of(suffixes.begin(), suffixes.end(), [&](std::string_view s) {
    return key.size() > s.size() && key.compare(key.size() - s.size(), s.size(), s) == 0;
  });
}

// "Bearer abc" anywhere in text is a credential.
bool is_auth_scheme(std::string_view word) {
  return iequals(word, "bearer") || iequals(word, "basic");
}

// Schemes that may start the value of an Authorization header ("Token abc").
bool is_header_scheme(std::string_view word) {
  return is_auth_scheme(word) || iequals(word, "token") || iequals(word, "sharedaccesssignature");
}

std::size_t skip_spaces(std::string_view s, std::size_t i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  return i;
}

std::size_t token_end(std::string_view s, std::size_t i) {
  while (i < s.size() && is_token_char(s[i])) ++i;
  return i;
}

// End of an unquoted value (query string, header, key=value list).
std::size_t bare_value_end(std::string_view s, std::size_t i) {
  while (i < s.size()) {
    const char c = s[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '&' || c == ',' || c == ';' ||
        c == '"' || c == '\'' || c == '}' || c == ')' || c == ']') {
      break;
    }
    ++i;
  }
  return i;
}

// End of a quoted value starting after its opening quote, honouring backslash escapes.
std::size_t quoted_value_end(std::string_view s, std::size_t i, char quote) {
  while (i < s.size() && s[i] != quote) i += (s[i] == '\\' && i + 1 < s.size()) ? 2 : 1;
  return i;
}

// At `i` (just after "://"): if the authority carries "user:password@", returns the range of
// the password.
bool url_password(std::string_view s, std::size_t i, std::size_t& begin, std::size_t& end) {
  std::size_t colon = std::string_view::npos;
  for (std::size_t j = i; j < s.size(); ++j) {
    const char c = s[j];
    if (c == '@') {
      if (colon == std::string_view::npos) return false;
      begin = colon + 1;
      end = j;
      return end > begin;
    }
    if (c == '/' || c == '?' || c == '#' || c == ' ' || c == '"' || c == '\'' || c == '\n') {
      return false;
    }
    if (c == ':' && colon == std::string_view::npos) colon = j;
  }
  return false;
}

bool looks_like_jwt(std::string_view token) {
  return token.size() > 20 && token.substr(0, 3) == "eyJ" &&
         std::count(token.begin(), token.end(), '.') == 2;
}

bool looks_like_databricks_token(std::string_view token) {
  if (token.size() < 36 || token.substr(0, 4) != "dapi") return false;
  return std::all_of(token.begin() + 4, token.end(), [](char c) { return is_hex(c) || c == '-'; });
}

std::string mask_patterns(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    if (s.compare(i, 3, "://") == 0) {
      std::size_t begin = 0;
      std::size_t end = 0;
      if (url_password(s, i + 3, begin, end)) {
        out.append(s.substr(i, begin - i)).append(kMask);
        i = end;
        continue;
      }
      out.append("://");
      i += 3;
      continue;
    }
    if (!is_word_char(s[i]) || (i > 0 && is_token_char(s[i - 1]))) {
      out.push_back(s[i++]);
      continue;
    }
    const std::size_t word_end = token_end(s, i);
    const std::string_view token = s.substr(i, word_end - i);
    if (looks_like_jwt(token) || looks_like_databricks_token(token)) {
      out.append(kMask);
      i = word_end;
      continue;
    }
    std::size_t key_end = i;
    while (key_end < s.size() && is_word_char(s[key_end])) ++key_end;
    const std::string_view word = s.substr(i, key_end - i);
    // A JSON key ("key": value): a bare value (number, true, null) is replaced by a quoted mask
    // so the line stays valid JSON.
    const bool json_key = i > 0 && s[i - 1] == '"' && key_end < s.size() && s[key_end] == '"';
    out.append(word);
    i = key_end;
    if (is_auth_scheme(word) && i < s.size() && s[i] == ' ') {
      const std::size_t cred = skip_spaces(s, i);
      const std::size_t cred_end = token_end(s, cred);
      if (cred_end > cred && !is_auth_scheme(s.substr(cred, cred_end - cred))) {
        out.append(" ").append(kMask);
        i = cred_end;
      }
      continue;
    }
    if (!is_sensitive_key(word)) continue;
    // key=value, key: value, "key": "value", key = 'value'
    std::size_t j = i;
    if (j < s.size() && (s[j] == '"' || s[j] == '\'')) ++j;
    j = skip_spaces(s, j);
    if (j >= s.size() || (s[j] != '=' && s[j] != ':')) continue;
    j = skip_spaces(s, j + 1);
    std::size_t value_begin = j;
    std::size_t value_end = 0;
    const bool quoted = j < s.size() && (s[j] == '"' || s[j] == '\'');
    if (quoted) {
      value_begin = j + 1;
      value_end = quoted_value_end(s, value_begin, s[j]);
    } else {
      value_end = bare_value_end(s, j);
      // "Authorization: Bearer abc": the credential is the word after the scheme.
      if (is_header_scheme(s.substr(value_begin, value_end - value_begin)) &&
          value_end < s.size() && s[value_end] == ' ') {
        value_end = bare_value_end(s, skip_spaces(s, value_end));
      }
    }
    if (value_end <= value_begin) continue;
    out.append(s.substr(i, value_begin - i));
    if (json_key && !quoted) {
      out.append("\"").append(kMask).append("\"");
    } else {
      out.append(kMask);
    }
    i = value_end;
  }
  return out;
}

}  // namespace

void register_secret_value(std::string_view value) {
  if (value.size() < 4) return;
  const auto& current = registry().get();
  if (std::find(current.begin(), current.end(), value) != current.end()) return;
  registry().update([&](SecretList& list) {
    if (std::find(list.begin(), list.end(), value) != list.end()) return;
    list.emplace_back(value);
    // Longest first, so a secret that contains another is masked whole.
    std::sort(list.begin(), list.end(),
              [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  });
}

std::string redact(std::string_view text) {
  std::string work(text);
  for (const auto& secret : registry().get()) {
    for (auto pos = work.find(secret); pos != std::string::npos;
         pos = work.find(secret, pos + kMask.size())) {
      work.replace(pos, secret.size(), kMask);
    }
  }
  return mask_patterns(work);
}

}  // namespace aadap
