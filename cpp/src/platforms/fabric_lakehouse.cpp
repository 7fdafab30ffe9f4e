// FabricClient's lakehouses (cloud-apis.md B10.7).
#include "aadap/core/errors.hpp"
#include "aadap/platforms/fabric.hpp"

namespace aadap::platforms {

namespace {

std::string lakehouse_path(const std::string& lakehouse_id) {
  if (lakehouse_id.empty()) throw InvalidArgumentError("the lakehouse id is empty");
  return "/lakehouses/" + percent_encode(lakehouse_id);
}

}  // namespace

nlohmann::json FabricClient::list_lakehouses(const std::string& cid) const {
  return list_pages(workspace_path() + "/lakehouses", "value", cid);
}

nlohmann::json FabricClient::get_lakehouse(const std::string& lakehouse_id,
                                           const std::string& cid) const {
  return call("GET", workspace_path() + lakehouse_path(lakehouse_id), nlohmann::json(), cid, true)
      .body;
}

nlohmann::json FabricClient::list_tables(const std::string& lakehouse_id,
                                         const std::string& cid) const {
  // the tables list is keyed `data`, not `value`
  return list_pages(workspace_path() + lakehouse_path(lakehouse_id) + "/tables?maxResults=100",
                    "data", cid);
}

}  // namespace aadap::platforms
