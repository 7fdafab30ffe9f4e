// Versions of the libraries the core was built against and runs with (for `aadap doctor` and
// bug reports).
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace aadap {

/// aadap's own version (from pyproject.toml, compiled in).
std::string version();

/// (library, version) pairs: faiss, libpqxx, libpq, libcurl, sqlite, spdlog, fmt,
/// nlohmann-json, openmp. Run-time versions where the library reports one.
std::vector<std::pair<std::string, std::string>> library_versions();

}  // namespace aadap
