#include "aadap/core/library_versions.hpp"

#include <curl/curl.h>
#include <faiss/Index.h>
#include <libpq-fe.h>
#include <spdlog/version.h>
#include <sqlite3.h>
#include <nlohmann/json.hpp>
#include <pqxx/version.hxx>

#include <fmt/core.h>

namespace aadap {

std::string version() {
  return AADAP_VERSION;
}

std::vector<std::pair<std::string, std::string>> library_versions() {
  const int pq = PQlibVersion();  // e.g. 150018 -> 15.18
  const curl_version_info_data* curl = curl_version_info(CURLVERSION_NOW);
  std::string curl_text = curl->version;
  if (curl->ssl_version != nullptr) curl_text += std::string(" (") + curl->ssl_version + ")";
  return {
      {"faiss",
       fmt::format("{}.{}.{}", FAISS_VERSION_MAJOR, FAISS_VERSION_MINOR, FAISS_VERSION_PATCH)},
      {"libpqxx", PQXX_VERSION},
      {"libpq", fmt::format("{}.{}", pq / 10000, pq % 10000)},
      {"libcurl", curl_text},
      {"sqlite", sqlite3_libversion()},
      {"spdlog", fmt::format("{}.{}.{}", SPDLOG_VER_MAJOR, SPDLOG_VER_MINOR, SPDLOG_VER_PATCH)},
      {"fmt",
       fmt::format("{}.{}.{}", FMT_VERSION / 10000, FMT_VERSION / 100 % 100, FMT_VERSION % 100)},
      {"nlohmann-json", fmt::format("{}.{}.{}", NLOHMANN_JSON_VERSION_MAJOR,
                                    NLOHMANN_JSON_VERSION_MINOR, NLOHMANN_JSON_VERSION_PATCH)},
#ifdef _OPENMP
      {"openmp", std::to_string(_OPENMP)},
#endif
  };
}

}  // namespace aadap
