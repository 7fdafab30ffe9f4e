// DatabricksClient's Unity Catalog listings (cloud-apis.md B8).
#include "aadap/core/errors.hpp"
#include "aadap/platforms/databricks.hpp"

namespace aadap::platforms {

namespace {

using nlohmann::json;

constexpr const char* kCatalog = "/api/2.1/unity-catalog";

const std::string& named(const std::string& name, const char* what) {
  if (name.empty()) throw InvalidArgumentError(std::string("the ") + what + " name is empty");
  return name;
}

}  // namespace

// max_results=0 asks for pages of the server's own length (leaving it out asks for everything
// at once, which the service discourages and may refuse on large catalogs).
json DatabricksClient::list_catalogs(const std::string& cid) const {
  return list_pages(std::string(kCatalog) + "/catalogs?max_results=0", "catalogs", cid);
}

json DatabricksClient::list_schemas(const std::string& catalog, const std::string& cid) const {
  return list_pages(std::string(kCatalog) + "/schemas?max_results=0&catalog_name=" +
                        percent_encode(named(catalog, "catalog")),
                    "schemas", cid);
}

json DatabricksClient::list_tables(const std::string& catalog, const std::string& schema,
                                   const std::string& cid) const {
  return list_pages(std::string(kCatalog) + "/tables?max_results=0&catalog_name=" +
                        percent_encode(named(catalog, "catalog")) +
                        "&schema_name=" + percent_encode(named(schema, "schema")),
                    "tables", cid);
}

json DatabricksClient::get_table(const std::string& full_name, const std::string& cid) const {
  return call("GET", std::string(kCatalog) + "/tables/" + percent_encode(named(full_name, "table")),
              json(), cid, true);
}

}  // namespace aadap::platforms
