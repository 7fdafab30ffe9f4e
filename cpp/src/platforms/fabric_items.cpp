// FabricClient's items and their definitions (cloud-apis.md B10.2–B10.4).
#include "aadap/core/errors.hpp"
#include "aadap/platforms/base64.hpp"
#include "aadap/platforms/fabric.hpp"
#include "aadap/platforms/json_fields.hpp"

namespace aadap::platforms {

namespace {

using nlohmann::json;

json definition_json(const ItemDefinition& definition) {
  json parts = json::array();
  for (const auto& [path, payload] : definition.parts) {
    parts.push_back(
        {{"path", path}, {"payload", base64_encode(payload)}, {"payloadType", "InlineBase64"}});
  }
  json out = {{"parts", std::move(parts)}};
  if (!definition.format.empty()) out["format"] = definition.format;
  return out;
}

/// The platform_resources type of an item type (the data model knows five).
std::optional<std::string> resource_type_of(const std::string& item_type) {
  if (item_type == "Notebook") return "notebook";
  if (item_type == "DataPipeline") return "pipeline";
  if (item_type == "SparkJobDefinition") return "job";
  return std::nullopt;
}

constexpr int kReservedNameRetries = 6;
constexpr std::chrono::seconds kReservedNameWait{60};
constexpr int kLookups = 5;  // after 0, 2, 4, 8 and 16 s

std::string item_path(const std::string& item_id) {
  if (item_id.empty()) throw InvalidArgumentError("the item id is empty");
  return "/items/" + percent_encode(item_id);
}

}  // namespace

json FabricClient::list_items(const std::string& type, const std::string& cid) const {
  std::string path = workspace_path() + "/items";
  if (!type.empty()) path += "?type=" + percent_encode(type);
  return list_pages(path, "value", cid);
}

json FabricClient::get_item(const std::string& item_id, const std::string& cid) const {
  return call("GET", workspace_path() + item_path(item_id), json(), cid, true).body;
}

std::optional<json> FabricClient::find_created(const ItemRequest& request,
                                               const CancelCheck& cancelled) const {
  // an item whose create is still running elsewhere (the same code run twice at once) holds
  // its name before it is listed: look again for about a minute
  for (int k = 0;; ++k) {
    if (auto item = find_item(request.type, request.display_name, request.correlation_id)) {
      return item;
    }
    if (k == kLookups - 1) return std::nullopt;
    sleeper_.sleep(doubling_delay(k, std::chrono::seconds(2), std::chrono::seconds(30)), cancelled);
  }
}

std::optional<json> FabricClient::find_item(const std::string& type,
                                            const std::string& display_name,
                                            const std::string& cid) const {
  for (auto& item : list_items(type, cid)) {
    if (string_field(item, "displayName") == display_name) return std::move(item);
  }
  return std::nullopt;
}

json FabricClient::create_item(const ItemRequest& request, const CancelCheck& cancelled) const {
  if (request.display_name.empty() || request.type.empty()) {
    throw InvalidArgumentError("an item needs a display name and a type");
  }
  json body = {{"displayName", request.display_name}, {"type", request.type}};
  if (!request.description.empty()) body["description"] = request.description;
  if (request.definition) body["definition"] = definition_json(*request.definition);
  const std::string& cid = request.correlation_id;
  FabricAnswer answer;
  for (int attempt = 0;; ++attempt) {
    try {
      // not repeated after an unclear failure: a create that went through would come back
      // ItemDisplayNameAlreadyInUse (429 is still waited for: nothing was created)
      answer = call("POST", workspace_path() + "/items", body, cid, false, cancelled);
      break;
    } catch (const RemoteError& error) {
      const std::string code = error.details().value("code", "");
      if (code == "ItemDisplayNameNotAvailableYet" && attempt < kReservedNameRetries) {
        // a name a deleted item had stays reserved for a while: the service's own tools wait
        // a minute and try again
        sleeper_.sleep(kReservedNameWait, cancelled);
        continue;
      }
      const bool exists =
          code == "ItemDisplayNameAlreadyInUse" || error.details().value("status", 0L) == 409;
      if (!request.reuse_existing || !exists) throw;
      auto existing = find_created(request, cancelled);
      if (!existing) throw;  // the name is taken by an item we cannot see
      if (request.definition) {
        update_definition(string_field(*existing, "id"), *request.definition, cid, cancelled);
      }
      return std::move(*existing);
    }
  }
  json item = finish_operation(
      answer, "creating " + request.type + " '" + request.display_name + "'", true, cid, cancelled);
  if (recorder_ && !request.task_id.empty()) {
    if (const auto type = resource_type_of(request.type)) {
      recorder_->record_resource(request.task_id, "fabric", *type, string_field(item, "id"),
                                 json{{"workspace_id", config_.workspace_id},
                                      {"display_name", request.display_name},
                                      {"item_type", request.type}}
                                     .dump(),
                                 cid);
    }
  }
  return item;
}

void FabricClient::update_definition(const std::string& item_id, const ItemDefinition& definition,
                                     const std::string& cid, const CancelCheck& cancelled) const {
  const FabricAnswer answer =
      call("POST", workspace_path() + item_path(item_id) + "/updateDefinition",
           json{{"definition", definition_json(definition)}}, cid, true, cancelled);
  finish_operation(answer, "updating the definition of item " + item_id, false, cid, cancelled);
}

ItemDefinition FabricClient::get_definition(const std::string& item_id, const std::string& format,
                                            const std::string& cid,
                                            const CancelCheck& cancelled) const {
  std::string path = workspace_path() + item_path(item_id) + "/getDefinition";
  if (!format.empty()) path += "?format=" + percent_encode(format);
  const json answer =
      finish_operation(call("POST", path, json(), cid, true, cancelled),
                       "reading the definition of item " + item_id, true, cid, cancelled);
  const auto malformed = [&](const std::string& why) {
    return RemoteError("Fabric answered the definition of item " + item_id + " " + why,
                       {{"code", "malformed_response"}, {"service", "Fabric"}});
  };
  const auto definition = answer.find("definition");
  if (definition == answer.end() || !definition->is_object() || !definition->contains("parts") ||
      !(*definition)["parts"].is_array()) {
    throw malformed("without parts");
  }
  ItemDefinition out;
  out.format = definition->value("format", "");
  for (const auto& part : (*definition)["parts"]) {
    const std::string path_of = string_field(part, "path");
    auto payload = base64_decode(string_field(part, "payload"));
    if (path_of.empty() || !payload) throw malformed("with a part that is not base64");
    out.parts.emplace_back(path_of, std::move(*payload));
  }
  return out;
}

void FabricClient::delete_item(const std::string& item_id, const std::string& cid) const {
  // not repeated: a delete that went through unheard would come back ItemNotFound
  call("DELETE", workspace_path() + item_path(item_id), json(), cid, false);
}

}  // namespace aadap::platforms
