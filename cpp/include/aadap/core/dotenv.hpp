// Reading `.env` files: KEY=VALUE lines, optional `export `, `#` comments, single quotes
// (literal), double quotes (escapes \n \t \" \\, may span lines), and unquoted values with
// trailing ` # comment` removed.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <string_view>

namespace aadap {

using EnvironmentMap = std::map<std::string, std::string>;

/// Parses .env text. Lines that are not assignments are ignored, as other tools do; an
/// unterminated quote is an error (ConfigurationError naming the line) because the rest of
/// the file would be read wrongly.
EnvironmentMap parse_dotenv(std::string_view text);

/// Reads and parses a file; a missing file gives an empty map.
EnvironmentMap read_dotenv(const std::filesystem::path& path);

/// The process environment.
EnvironmentMap process_environment();

}  // namespace aadap
