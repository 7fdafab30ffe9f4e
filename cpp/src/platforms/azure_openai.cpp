#include "aadap/platforms/azure_openai.hpp"

#include "aadap/core/errors.hpp"
#include "aadap/core/logging.hpp"
#include "aadap/core/redaction.hpp"
#include "aadap/platforms/service_error.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>

namespace aadap::platforms {

namespace {

using nlohmann::json;

const log::Logger& logger() {
  static const log::Logger instance("aadap.platforms.azure_openai");
  return instance;
}

constexpr const char* kService = "Azure OpenAI";
constexpr std::size_t kEmbeddingBatch = 2048;  // inputs per request, the service's limit
constexpr std::int64_t kTokensPerMessage = 4;  // role and framing of each chat message

std::string text_of(const json& value) {
  return value.is_string() ? value.get<std::string>() : std::string();
}

std::int64_t count_of(const json& object, const char* key) {
  const auto found = object.find(key);
  return found != object.end() && found->is_number_integer() ? found->get<std::int64_t>() : -1;
}

/// The usage object of a response, when it is complete.
std::optional<TokenUsage> usage_of(const json& body) {
  const auto found = body.find("usage");
  if (found == body.end() || !found->is_object()) return std::nullopt;
  TokenUsage usage;
  usage.prompt_tokens = count_of(*found, "prompt_tokens");
  usage.completion_tokens = std::max<std::int64_t>(0, count_of(*found, "completion_tokens"));
  usage.total_tokens = count_of(*found, "total_tokens");
  if (usage.prompt_tokens < 0) return std::nullopt;
  if (usage.total_tokens < 0) usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
  return usage;
}

std::int64_t estimated_prompt(const std::vector<ChatMessage>& messages) {
  std::int64_t tokens = 0;
  for (const auto& m : messages) tokens += kTokensPerMessage + estimated_tokens(m.content);
  return tokens;
}

TokenUsage estimated_usage(const std::vector<ChatMessage>& messages, const std::string& reply) {
  TokenUsage usage;
  usage.prompt_tokens = estimated_prompt(messages);
  usage.completion_tokens = estimated_tokens(reply);
  usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
  usage.estimated = true;
  return usage;
}

}  // namespace

int embedding_dimension(std::string_view name) {
  if (name.find("3-large") != std::string_view::npos) return 3072;
  if (name.find("3-small") != std::string_view::npos ||
      name.find("ada-002") != std::string_view::npos) {
    return 1536;
  }
  return 0;
}

std::int64_t certain_tokens(std::string_view text) {
  return static_cast<std::int64_t>((text.size() + 15) / 16);
}

std::int64_t estimated_tokens(std::string_view text) {
  return static_cast<std::int64_t>((text.size() + 2) / 3);
}

// ---------------------------------------------------------------------------------------------

AzureOpenAIClient::AzureOpenAIClient(AzureOpenAIConfig config,
                                     std::shared_ptr<const HttpTransport> transport,
                                     std::shared_ptr<UsageSink> usage_sink,
                                     std::shared_ptr<const Clock> clock, Sleeper& sleeper)
    : config_(std::move(config)),
      transport_(std::move(transport)),
      usage_sink_(std::move(usage_sink)),
      clock_(std::move(clock)),
      sleeper_(sleeper) {
  while (!config_.endpoint.empty() && config_.endpoint.back() == '/') config_.endpoint.pop_back();
  if (config_.endpoint.rfind("https://", 0) != 0 && config_.endpoint.rfind("http://", 0) != 0) {
    throw ConfigurationError(
        "the Azure OpenAI endpoint must be an https:// URL such as "
        "https://my-resource.openai.azure.com (got '" +
        url_for_display(config_.endpoint) + "')");
  }
  if ((!config_.api_key || config_.api_key->empty()) && !config_.credential) {
    throw ConfigurationError(
        "Azure OpenAI needs an api-key (AADAP_AZURE_OPENAI_API_KEY) or Entra ID client "
        "credentials (AADAP_AZURE_OPENAI_TENANT_ID, _CLIENT_ID, _CLIENT_SECRET)");
  }
  if (config_.api_version.empty()) {
    throw ConfigurationError("the Azure OpenAI api-version cannot be empty (e.g. 2024-02-01)");
  }
  config_.retry.validate();
}

std::string AzureOpenAIClient::url(const std::string& deployment,
                                   const std::string& operation) const {
  return config_.endpoint + "/openai/deployments/" + percent_encode(deployment) + "/" + operation +
         "?api-version=" + percent_encode(config_.api_version);
}

HttpRequest AzureOpenAIClient::request(const std::string& url, std::string body,
                                       const std::string& correlation_id) const {
  HttpRequest r;
  r.method = "POST";
  r.url = url;
  r.body = std::move(body);
  r.correlation_id = correlation_id;
  r.timeout = config_.timeout;
  r.connect_timeout = config_.connect_timeout;
  r.headers = {{"Content-Type", "application/json"}, {"Accept", "application/json"}};
  if (config_.api_key && !config_.api_key->empty()) {
    r.headers.add("api-key", config_.api_key->reveal());
  } else {
    r.headers.add(
        "Authorization",
        "Bearer " + config_.credential->token(kCognitiveServicesScope, correlation_id).reveal());
  }
  return r;
}

RetriedStream AzureOpenAIClient::exchange(const std::string& url, const std::string& body,
                                          const std::string& correlation_id, bool whole_body,
                                          const CancelCheck& cancelled) const {
  const Retrier retrier(*transport_, config_.retry, *clock_, sleeper_);
  // openai-python retries POSTs too (an idempotency key is generated but never sent): a chat
  // completion or an embedding creates nothing that a repeat would duplicate.
  const auto prepare = [&](int) { return request(url, body, correlation_id); };
  auto result = whole_body ? RetriedStream{} : retrier.open(prepare, true, cancelled);
  if (whole_body) {
    auto sent = retrier.send(prepare, true, cancelled);
    result.response = std::move(sent.response);
    result.attempts = sent.attempts;
    result.refused_server_delay = sent.refused_server_delay;
  }
  if (result.response.status == 401 && config_.credential && !config_.api_key) {
    // the token may have been revoked or expired early: one fresh token, one more try
    config_.credential->invalidate(kCognitiveServicesScope);
    const int before = result.attempts;
    if (whole_body) {
      auto sent = retrier.send(prepare, true, cancelled);
      result = RetriedStream{std::move(sent.response), std::nullopt, sent.attempts,
                             sent.refused_server_delay};
    } else {
      result = retrier.open(prepare, true, cancelled);
    }
    result.attempts += before;
  }
  return result;
}

void AzureOpenAIClient::fail(const HttpResponse& response, int attempts,
                             std::optional<std::chrono::milliseconds> refused_delay,
                             const std::string& action) const {
  ServiceError error{kService, action, response.status, "", "", "", refused_delay, attempts};
  error.request_id = response.headers.get("apim-request-id")
                         .value_or(response.headers.get("x-request-id").value_or(""));
  if (!error.retry_after) error.retry_after = server_delay(response.headers);
  const auto body = json::parse(response.body, nullptr, false);
  std::string inner;
  if (body.is_object() && body.contains("error") && body["error"].is_object()) {
    const auto& e = body["error"];
    error.code = e.contains("code")
                     ? (e["code"].is_string() ? e["code"].get<std::string>() : e["code"].dump())
                     : "";
    error.message = text_of(e.value("message", json()));
    for (const char* key : {"innererror", "inner_error"}) {
      if (e.contains(key) && e[key].is_object()) inner = text_of(e[key].value("code", json()));
    }
  } else {
    error.message = response.body.substr(0, 200);
  }
  const nlohmann::json details = {{"status", error.status},
                                  {"code", error.code},
                                  {"request_id", error.request_id},
                                  {"service", kService},
                                  {"attempts", attempts}};
  if (error.code == "content_filter" || inner == "ResponsibleAIPolicyViolation") {
    throw ContentFilterError(
        redact("Azure OpenAI's content filter refused the " + action + ": " + error.message),
        details);
  }
  if (error.code == "context_length_exceeded") {
    throw ContextLengthError(
        redact("the " + action + " does not fit the model's context: " + error.message), details);
  }
  throw_service_error(error);
}

std::string AzureOpenAIClient::deployment_of(const ChatRequest& request) const {
  const std::string& deployment =
      request.deployment.empty() ? config_.chat_deployment : request.deployment;
  if (deployment.empty()) {
    throw ConfigurationError(
        "no chat deployment: pass one, or configure "
        "AADAP_AZURE_OPENAI_DEPLOYMENT_NAME");
  }
  return deployment;
}

std::string AzureOpenAIClient::chat_body(const ChatRequest& request, bool stream) const {
  if (request.messages.empty()) {
    throw InvalidArgumentError("a chat completion needs at least one message");
  }
  if (request.max_tokens < 1) {
    throw InvalidArgumentError("max_tokens is at least 1 (got " +
                               std::to_string(request.max_tokens) + ")");
  }
  json messages = json::array();
  for (const auto& m : request.messages) {
    if (m.role != "system" && m.role != "user" && m.role != "assistant" && m.role != "tool") {
      throw InvalidArgumentError(
          "a chat message's role is system, user, assistant or tool "
          "(got '" +
          m.role.substr(0, 40) + "')");
    }
    messages.push_back({{"role", m.role}, {"content", m.content}});
  }
  json body = {{"messages", std::move(messages)}, {"max_tokens", request.max_tokens}};
  if (request.temperature) {
    if (!(*request.temperature >= 0.0 && *request.temperature <= 2.0)) {
      throw InvalidArgumentError("temperature is from 0 to 2");
    }
    body["temperature"] = *request.temperature;
  }
  if (request.response_format) body["response_format"] = {{"type", *request.response_format}};
  if (stream) {
    body["stream"] = true;
    body["stream_options"] = {{"include_usage", true}};
  }
  // invalid UTF-8 in a message is replaced, not a crash
  return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

void AzureOpenAIClient::require_budget(const ChatRequest& request) const {
  if (!usage_sink_ || request.task_id.empty()) return;
  std::int64_t tokens = 0;
  for (const auto& m : request.messages) tokens += certain_tokens(m.content);
  usage_sink_->require_budget(request.task_id, tokens, request.correlation_id);
}

void AzureOpenAIClient::charge(const std::string& task_id, const TokenUsage& usage,
                               const std::string& model, const std::string& correlation_id) const {
  if (!usage_sink_ || task_id.empty()) return;
  usage_sink_->charge(LlmUsage{task_id, usage.prompt_tokens, usage.completion_tokens,
                               usage.estimated, model, correlation_id});
}

ChatCompletion AzureOpenAIClient::complete(const ChatRequest& request,
                                           const CancelCheck& cancelled) const {
  const std::string deployment = deployment_of(request);
  const std::string body = chat_body(request, false);
  require_budget(request);
  const std::string action = "chat completion on deployment '" + deployment + "'";
  const auto result =
      exchange(url(deployment, "chat/completions"), body, request.correlation_id, true, cancelled);
  if (result.response.status != 200) {
    fail(result.response, result.attempts, result.refused_server_delay, action);
  }
  const auto parsed = parse_service_json(result.response.body, kService, action, 200);
  ChatCompletion out;
  out.attempts = result.attempts;
  const auto choices = parsed.is_object() ? parsed.find("choices") : parsed.end();
  if (choices == parsed.end() || !choices->is_array() || choices->empty() ||
      !(*choices)[0].is_object()) {
    throw RemoteError("Azure OpenAI answered the " + action + " without choices",
                      {{"status", 200}, {"service", kService}, {"code", "malformed_response"}});
  }
  const auto& choice = (*choices)[0];
  out.id = text_of(parsed.value("id", json()));
  out.model = text_of(parsed.value("model", json()));
  out.finish_reason = text_of(choice.value("finish_reason", json()));
  if (choice.contains("message") && choice["message"].is_object()) {
    out.content = text_of(choice["message"].value("content", json()));
  }
  const auto usage = usage_of(parsed);
  out.usage = usage ? *usage : estimated_usage(request.messages, out.content);
  if (!usage) {
    logger().warning("azure_openai.usage_missing", request.correlation_id,
                     log::kv("deployment", deployment),
                     log::kv("estimated_tokens", out.usage.total_tokens));
  }
  charge(request.task_id, out.usage, out.model.empty() ? deployment : out.model,
         request.correlation_id);
  logger().info("azure_openai.completion", request.correlation_id,
                log::kv("deployment", deployment), log::kv("finish_reason", out.finish_reason),
                log::kv("prompt_tokens", out.usage.prompt_tokens),
                log::kv("completion_tokens", out.usage.completion_tokens),
                log::kv("attempts", out.attempts));
  return out;
}

ChatStream AzureOpenAIClient::stream(const ChatRequest& request,
                                     const CancelCheck& cancelled) const {
  const std::string deployment = deployment_of(request);
  const std::string body = chat_body(request, true);
  require_budget(request);
  auto result =
      exchange(url(deployment, "chat/completions"), body, request.correlation_id, false, cancelled);
  if (!result.stream || result.response.status != 200) {
    fail(result.response, result.attempts, result.refused_server_delay,
         "streamed chat completion on deployment '" + deployment + "'");
  }
  return ChatStream(*this, std::move(*result.stream), request, deployment);
}

std::vector<float> AzureOpenAIClient::embed(const std::vector<std::string>& texts,
                                            const std::string& deployment_name, int& dimension,
                                            const std::string& task_id,
                                            const std::string& correlation_id,
                                            const CancelCheck& cancelled) const {
  const std::string& deployment =
      deployment_name.empty() ? config_.embedding_deployment : deployment_name;
  if (deployment.empty()) {
    throw ConfigurationError(
        "no embedding deployment: pass one, or configure "
        "AADAP_AZURE_OPENAI_EMBEDDING_DEPLOYMENT");
  }
  require_non_blank_texts(texts);
  if (dimension == 0) dimension = embedding_dimension(deployment);
  const std::string action = "embeddings on deployment '" + deployment + "'";
  if (usage_sink_ && !task_id.empty()) {
    std::int64_t tokens = 0;
    for (const auto& t : texts) tokens += certain_tokens(t);
    usage_sink_->require_budget(task_id, tokens, correlation_id);
  }
  std::vector<float> out;
  for (std::size_t first = 0; first < texts.size(); first += kEmbeddingBatch) {
    const std::size_t count = std::min(kEmbeddingBatch, texts.size() - first);
    json input = json::array();
    for (std::size_t i = first; i < first + count; ++i) input.push_back(texts[i]);
    const std::string body =
        json{{"input", std::move(input)}}.dump(-1, ' ', false, json::error_handler_t::replace);
    const auto result =
        exchange(url(deployment, "embeddings"), body, correlation_id, true, cancelled);
    if (result.response.status != 200) {
      fail(result.response, result.attempts, result.refused_server_delay, action);
    }
    const auto parsed = parse_service_json(result.response.body, kService, action, 200);
    const auto data = parsed.is_object() ? parsed.find("data") : parsed.end();
    if (data == parsed.end() || !data->is_array() || data->size() != count) {
      throw RemoteError("Azure OpenAI answered the " + action + " with " +
                            (data != parsed.end() && data->is_array() ? std::to_string(data->size())
                                                                      : std::string("no")) +
                            " embeddings for " + std::to_string(count) + " inputs",
                        {{"status", 200}, {"service", kService}, {"code", "malformed_response"}});
    }
    if (dimension == 0 && !(*data)[0].is_null()) {
      const auto& first_row = (*data)[0].value("embedding", json());
      dimension = first_row.is_array() ? static_cast<int>(first_row.size()) : 0;
    }
    const auto dim = static_cast<std::size_t>(dimension);
    const std::size_t base = out.size();
    out.resize(base + count * dim);
    std::vector<char> seen(count, 0);
    for (const auto& item : *data) {
      const auto index = item.is_object() ? count_of(item, "index") : -1;
      const auto embedding = item.is_object() ? item.find("embedding") : item.end();
      if (index < 0 || static_cast<std::size_t>(index) >= count || seen[index] != 0 ||
          embedding == item.end() || !embedding->is_array() || embedding->size() != dim ||
          dim == 0) {
        throw RemoteError("Azure OpenAI answered the " + action +
                              " with an embedding of another dimension "
                              "or index (expected " +
                              std::to_string(dim) + " floats at indexes 0.." +
                              std::to_string(count - 1) + ")",
                          {{"status", 200}, {"service", kService}, {"code", "malformed_response"}});
      }
      seen[index] = 1;
      float* row = out.data() + base + static_cast<std::size_t>(index) * dim;
      for (std::size_t j = 0; j < dim; ++j) {
        const auto& v = (*embedding)[j];
        if (!v.is_number()) {
          throw RemoteError(
              "Azure OpenAI answered the " + action +
                  " with a non-number in an "
                  "embedding",
              {{"status", 200}, {"service", kService}, {"code", "malformed_response"}});
        }
        row[j] = v.get<float>();
      }
    }
    if (const auto usage = usage_of(parsed)) {
      charge(task_id, *usage, deployment, correlation_id);
    } else {
      TokenUsage estimate;
      for (std::size_t i = first; i < first + count; ++i) {
        estimate.prompt_tokens += estimated_tokens(texts[i]);
      }
      estimate.total_tokens = estimate.prompt_tokens;
      estimate.estimated = true;
      charge(task_id, estimate, deployment, correlation_id);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

ChatStream::ChatStream(const AzureOpenAIClient& client, HttpStream stream, ChatRequest request,
                       std::string deployment)
    : client_(&client),
      stream_(std::move(stream)),
      request_(std::move(request)),
      deployment_(std::move(deployment)) {}

std::optional<std::string> ChatStream::next() {
  const std::string action = "streamed chat completion on deployment '" + deployment_ + "'";
  std::string bytes;
  while (!ended_) {
    while (auto event = events_.next()) {
      if (event->data == "[DONE]") {
        end();
        return std::nullopt;
      }
      const auto chunk = parse_service_json(event->data, kService, action, 200);
      if (!chunk.is_object()) continue;
      if (chunk.contains("error")) {  // an error inside the stream
        HttpResponse response{200, {}, event->data};
        client_->fail(response, 1, std::nullopt, action);
      }
      if (id_.empty()) id_ = text_of(chunk.value("id", json()));
      if (model_.empty()) model_ = text_of(chunk.value("model", json()));
      if (const auto usage = usage_of(chunk)) usage_ = usage;
      const auto choices = chunk.find("choices");
      // empty choices: Azure's first chunk (prompt filter results) or the usage chunk
      if (choices == chunk.end() || !choices->is_array() || choices->empty()) continue;
      const auto& choice = (*choices)[0];
      if (!choice.is_object()) continue;
      const auto reason = choice.value("finish_reason", json());
      if (reason.is_string()) finish_reason_ = reason.get<std::string>();
      if (choice.contains("delta") && choice["delta"].is_object()) {
        std::string piece = text_of(choice["delta"].value("content", json()));
        if (!piece.empty()) {
          content_ += piece;
          return piece;
        }
      }
    }
    bytes.clear();
    if (!stream_.read(bytes)) {
      if (events_.pending() > 0 || finish_reason_.empty()) {
        throw PlatformConnectionError("the " + action + " ended before [DONE] (" +
                                          std::to_string(content_.size()) + " characters received)",
                                      {{"service", kService}});
      }
      end();
      return std::nullopt;
    }
    events_.feed(bytes);
  }
  return std::nullopt;
}

void ChatStream::end() {
  ended_ = true;
  if (!usage_) usage_ = estimated_usage(request_.messages, content_);
  client_->charge(request_.task_id, *usage_, model_.empty() ? deployment_ : model_,
                  request_.correlation_id);
}

// ---------------------------------------------------------------------------------------------

AzureOpenAIEmbedder::AzureOpenAIEmbedder(std::shared_ptr<const AzureOpenAIClient> client,
                                         std::string deployment, int dimension)
    : client_(std::move(client)), deployment_(std::move(deployment)), dimension_(dimension) {
  if (deployment_.empty()) deployment_ = client_->config().embedding_deployment;
  if (dimension_ == 0) dimension_ = embedding_dimension(deployment_);
  if (dimension_ <= 0) {
    throw ConfigurationError("the dimension of embedding deployment '" + deployment_ +
                             "' cannot be told from its name: pass it (e.g. 1536)");
  }
}

EmbedderIdentity AzureOpenAIEmbedder::identity() const {
  return EmbedderIdentity{"azure-openai", deployment_, dimension_};
}

void AzureOpenAIEmbedder::embed_batch(const std::vector<std::string>& texts, float* out) const {
  int dimension = dimension_;
  const auto rows = client_->embed(texts, deployment_, dimension);
  std::copy(rows.begin(), rows.end(), out);
  // unit length, as the Embedder interface promises (the service's vectors nearly are)
  const auto dim = static_cast<std::size_t>(dimension_);
  for (std::size_t r = 0; r < texts.size(); ++r) {
    float* row = out + r * dim;
    double sum = 0;
    for (std::size_t j = 0; j < dim; ++j) sum += static_cast<double>(row[j]) * row[j];
    if (sum > 0) {
      const auto scale = static_cast<float>(1.0 / std::sqrt(sum));
      for (std::size_t j = 0; j < dim; ++j) row[j] *= scale;
    }
  }
}

}  // namespace aadap::platforms
