// The Azure OpenAI client (platforms.md §3, cloud-apis.md B11): chat completions, whole or
// streamed over server-sent events, and embeddings, authenticated with an api-key or an Entra
// ID token, retried per RetryPolicy::azure_openai(). A call made for a task is charged to it
// through the usage sink, refused before it is sent when the task's budget certainly cannot
// pay for it, and never charged zero: a response without `usage` is charged a conservative
// local estimate.
//
// Thread-safe: one client serves any number of threads (connections are pooled).
#pragma once

#include "aadap/core/clock.hpp"
#include "aadap/core/embedder.hpp"
#include "aadap/core/secret.hpp"
#include "aadap/core/usage_sink.hpp"
#include "aadap/platforms/entra.hpp"
#include "aadap/platforms/http.hpp"
#include "aadap/platforms/retry.hpp"
#include "aadap/platforms/server_sent_events.hpp"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace aadap::platforms {

struct AzureOpenAIConfig {
  std::string endpoint;  // https://<resource>.openai.azure.com
  std::string api_version = "2024-02-01";
  std::string chat_deployment;       // the default of complete() and stream()
  std::string embedding_deployment;  // the default of embed()
  std::optional<Secret> api_key;     // or, when absent, `credential`
  std::shared_ptr<EntraCredential> credential;
  RetryPolicy retry = RetryPolicy::azure_openai();
  std::chrono::milliseconds timeout{600'000};
  std::chrono::milliseconds connect_timeout{5'000};
};

/// The Entra scope of Azure OpenAI.
inline constexpr const char* kCognitiveServicesScope =
    "https://cognitiveservices.azure.com/.default";

struct ChatMessage {
  std::string role;  // system, user, assistant
  std::string content;
};

struct ChatRequest {
  std::vector<ChatMessage> messages;
  std::string deployment;  // empty: the configured chat deployment
  int max_tokens = 4096;
  std::optional<double> temperature;
  std::optional<std::string> response_format;  // "json_object" or "text"
  std::string task_id;                         // charged through the usage sink when set
  std::string correlation_id;
};

struct TokenUsage {
  std::int64_t prompt_tokens = 0;
  std::int64_t completion_tokens = 0;
  std::int64_t total_tokens = 0;
  bool estimated = false;  // the service sent no usage
};

struct ChatCompletion {
  std::string id;
  std::string model;
  std::string content;
  std::string finish_reason;
  TokenUsage usage;
  int attempts = 1;
};

class AzureOpenAIClient;

/// A chat completion arriving piece by piece (the cancel check given to stream() keeps
/// working while it is read). Not thread-safe.
class ChatStream {
 public:
  /// The next piece of content; nullopt once the completion has ended (then finish_reason()
  /// and usage() are final, and the usage has been charged).
  std::optional<std::string> next();
  const std::string& id() const noexcept { return id_; }
  const std::string& model() const noexcept { return model_; }
  const std::string& finish_reason() const noexcept { return finish_reason_; }
  /// The usage the service reported, or the estimate charged when it reported none.
  const std::optional<TokenUsage>& usage() const noexcept { return usage_; }
  /// The whole content received so far.
  const std::string& content() const noexcept { return content_; }

 private:
  friend class AzureOpenAIClient;
  ChatStream(const AzureOpenAIClient& client, HttpStream stream, ChatRequest request,
             std::string deployment);
  void end();

  const AzureOpenAIClient* client_;
  HttpStream stream_;
  ChatRequest request_;
  std::string deployment_;
  ServerSentEvents events_;
  std::string id_, model_, finish_reason_, content_;
  std::optional<TokenUsage> usage_;
  bool ended_ = false;
};

class AzureOpenAIClient {
 public:
  AzureOpenAIClient(AzureOpenAIConfig config, std::shared_ptr<const HttpTransport> transport,
                    std::shared_ptr<UsageSink> usage_sink = nullptr,
                    std::shared_ptr<const Clock> clock = std::make_shared<SteadyClock>(),
                    Sleeper& sleeper = SystemSleeper::instance());

  ChatCompletion complete(const ChatRequest& request, const CancelCheck& cancelled = {}) const;
  /// Streams the completion; usage is asked for (stream_options.include_usage).
  ChatStream stream(const ChatRequest& request, const CancelCheck& cancelled = {}) const;
  /// One row of floats per text (row-major, texts.size() × dimension), in the texts' order,
  /// sent in batches of at most 2048. `dimension` is checked against every row: 0 takes the
  /// model's (embedding_dimension()) when the deployment name says, else the first row's.
  std::vector<float> embed(const std::vector<std::string>& texts, const std::string& deployment,
                           int& dimension, const std::string& task_id = {},
                           const std::string& correlation_id = {},
                           const CancelCheck& cancelled = {}) const;

  const AzureOpenAIConfig& config() const noexcept { return config_; }
  const HttpTransport& transport() const noexcept { return *transport_; }

 private:
  friend class ChatStream;
  std::string url(const std::string& deployment, const std::string& operation) const;
  HttpRequest request(const std::string& url, std::string body,
                      const std::string& correlation_id) const;
  std::string deployment_of(const ChatRequest& request) const;
  std::string chat_body(const ChatRequest& request, bool stream) const;
  void require_budget(const ChatRequest& request) const;
  void charge(const std::string& task_id, const TokenUsage& usage, const std::string& model,
              const std::string& correlation_id) const;
  /// Throws the typed exception for an error answer.
  [[noreturn]] void fail(const HttpResponse& response, int attempts,
                         std::optional<std::chrono::milliseconds> refused_delay,
                         const std::string& action) const;
  /// Sends, refreshing an Entra token once after a 401.
  RetriedStream exchange(const std::string& url, const std::string& body,
                         const std::string& correlation_id, bool whole_body,
                         const CancelCheck& cancelled) const;

  AzureOpenAIConfig config_;
  std::shared_ptr<const HttpTransport> transport_;
  std::shared_ptr<UsageSink> usage_sink_;
  std::shared_ptr<const Clock> clock_;
  Sleeper& sleeper_;
};

/// The embedding dimension a model name implies (text-embedding-3-large 3072; ada-002 and
/// 3-small 1536); 0 when the name does not say.
int embedding_dimension(std::string_view model_or_deployment);

/// Tokens a text is certain to take at least (a lower bound: one token never covers more
/// than 16 bytes of ordinary text) — what a budget check may refuse on.
std::int64_t certain_tokens(std::string_view text);
/// A conservative (high) estimate of a text's tokens, charged when a service reports none:
/// one per 3 bytes, plus 4 per message for the chat framing.
std::int64_t estimated_tokens(std::string_view text);

/// An embedder for the vector memory (core Embedder) over an Azure OpenAI deployment.
class AzureOpenAIEmbedder final : public Embedder {
 public:
  AzureOpenAIEmbedder(std::shared_ptr<const AzureOpenAIClient> client, std::string deployment,
                      int dimension = 0);
  EmbedderIdentity identity() const override;
  void embed_batch(const std::vector<std::string>& texts, float* out) const override;

 private:
  std::shared_ptr<const AzureOpenAIClient> client_;
  std::string deployment_;
  int dimension_;
};

}  // namespace aadap::platforms
