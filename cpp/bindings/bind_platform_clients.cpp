// The platform clients' part of the platforms binding: HTTP transport, retry policies, time,
// Entra ID credentials, Azure OpenAI. Every blocking call releases the GIL and can be
// interrupted with Ctrl-C (KeyboardInterrupt) from the main thread.
#include "aadap/core/errors.hpp"
#include "aadap/engine/resource_recording.hpp"
#include "aadap/engine/usage_charging.hpp"
#include "aadap/platforms/azure_openai.hpp"
#include "aadap/platforms/entra.hpp"
#include "aadap/platforms/http.hpp"
#include "aadap/platforms/retry.hpp"
#include "bindings.hpp"
#include "platform_calls.hpp"

#include <pybind11/chrono.h>
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

namespace py = pybind11;

namespace aadap::bindings {

namespace {

using namespace platforms;

std::vector<ChatMessage> messages_of(const std::vector<std::pair<std::string, std::string>>& in) {
  std::vector<ChatMessage> out;
  out.reserve(in.size());
  for (const auto& [role, content] : in) out.push_back(ChatMessage{role, content});
  return out;
}

py::dict usage_dict(const TokenUsage& usage) {
  py::dict out;
  out["prompt_tokens"] = usage.prompt_tokens;
  out["completion_tokens"] = usage.completion_tokens;
  out["total_tokens"] = usage.total_tokens;
  out["estimated"] = usage.estimated;
  return out;
}

}  // namespace

void bind_platform_clients(py::module_& m) {
  py::class_<HttpTransport, std::shared_ptr<HttpTransport>>(
      m, "HttpTransport",
      "libcurl with pooled connections per host; shared by the clients made from it.")
      .def(py::init([](const CaBundle& ca_bundle, bool verify, std::string correlation_header,
                       std::string user_agent) {
             return std::make_shared<HttpTransport>(TransportOptions{TlsOptions{ca_bundle, verify},
                                                                     std::move(correlation_header),
                                                                     std::move(user_agent)});
           }),
           py::kw_only(), py::arg("ca_bundle"), py::arg("verify") = true,
           py::arg("correlation_header") = "X-Correlation-ID", py::arg("user_agent") = "aadap")
      .def_property_readonly("connections_opened", &HttpTransport::connections_opened);

  py::class_<RetryPolicy>(
      m, "RetryPolicy",
      "When and how a client retries (platforms.md §1); durations are timedelta (float "
      "seconds accepted).")
      .def(py::init<>())
      .def_static("azure_openai", &RetryPolicy::azure_openai)
      .def_static("databricks", &RetryPolicy::databricks)
      .def_static("fabric", &RetryPolicy::fabric)
      .def_static("entra", &RetryPolicy::entra)
      .def_readwrite("max_retries", &RetryPolicy::max_retries)
      .def_property(
          "backoff",
          [](const RetryPolicy& p) {
            return p.backoff == Backoff::exponential ? "exponential" : "linear";
          },
          [](RetryPolicy& p, const std::string& kind) {
            if (kind != "exponential" && kind != "linear") {
              throw InvalidArgumentError("backoff is 'exponential' or 'linear'");
            }
            p.backoff = kind == "linear" ? Backoff::linear : Backoff::exponential;
          })
      .def_readwrite("initial_delay", &RetryPolicy::initial_delay)
      .def_readwrite("max_delay", &RetryPolicy::max_delay)
      .def_readwrite("jitter", &RetryPolicy::jitter)
      .def_readwrite("retry_statuses", &RetryPolicy::retry_statuses)
      .def_readwrite("retry_server_errors", &RetryPolicy::retry_server_errors)
      .def_readwrite("retry_connection_errors", &RetryPolicy::retry_connection_errors)
      .def_readwrite("max_server_delay", &RetryPolicy::max_server_delay)
      .def_readwrite("default_server_delay", &RetryPolicy::default_server_delay)
      .def_readwrite("honour_should_retry_header", &RetryPolicy::honour_should_retry_header)
      .def_readwrite("deadline", &RetryPolicy::deadline)
      .def("backoff_delay", &RetryPolicy::backoff_delay, py::arg("retry"), py::arg("random"))
      .def("validate", &RetryPolicy::validate);

  py::class_<ManualTime, Clock, std::shared_ptr<ManualTime>>(
      m, "ManualTime",
      "Time that passes only when a client sleeps (retries, polls): nothing really waits, and "
      "`sleeps` records every wait in seconds.")
      .def(py::init([] { return std::make_shared<ManualTime>(); }))
      .def(
          "advance",
          [](ManualTime& t, double seconds) {
            t.advance(std::chrono::nanoseconds(static_cast<std::int64_t>(seconds * 1e9)));
          },
          py::arg("seconds"))
      .def_property_readonly("sleeps", [](const ManualTime& t) {
        std::vector<double> out;
        for (const auto s : t.sleeps()) out.push_back(static_cast<double>(s.count()) / 1e9);
        return out;
      });

  py::class_<UsageSink, std::shared_ptr<UsageSink>>(
      m, "UsageSink", "Where a client charges LLM usage (an engine: engine.usage_sink()).");

  py::class_<EntraCredential, std::shared_ptr<EntraCredential>>(
      m, "EntraCredentialCore", "Entra ID client credentials with a token cache per scope.")
      .def(py::init([](std::shared_ptr<HttpTransport> transport, std::string authority,
                       std::string tenant_id, std::string client_id, const Secret& secret,
                       RetryPolicy retry, double timeout, std::shared_ptr<ManualTime> manual) {
             const auto time = time_of(manual);
             return std::make_shared<EntraCredential>(
                 std::move(transport),
                 EntraConfig{std::move(authority), std::move(tenant_id), std::move(client_id),
                             secret, std::move(retry), milliseconds_of(timeout, "timeout")},
                 time.clock, *time.sleeper);
           }),
           py::kw_only(), py::arg("transport"), py::arg("authority"), py::arg("tenant_id"),
           py::arg("client_id"), py::arg("client_secret"), py::arg("retry"),
           py::arg("timeout") = 30.0, py::arg("time") = nullptr)
      .def(
          "token",
          [](EntraCredential& c, const std::string& scope, const std::string& correlation_id) {
            py::gil_scoped_release release;
            return c.token(scope, correlation_id, interrupt_check());
          },
          py::arg("scope"), py::arg("correlation_id") = "")
      .def("invalidate", &EntraCredential::invalidate, py::arg("scope"))
      .def_property_readonly("tokens_requested", &EntraCredential::tokens_requested);

  py::class_<ChatStream>(m, "ChatStreamCore")
      .def("__next__",
           [](ChatStream& s) {
             std::optional<std::string> piece;
             {
               py::gil_scoped_release release;
               piece = s.next();
             }
             if (!piece) throw py::stop_iteration();
             return *piece;
           })
      .def_property_readonly("id", &ChatStream::id)
      .def_property_readonly("model", &ChatStream::model)
      .def_property_readonly("finish_reason", &ChatStream::finish_reason)
      .def_property_readonly("content", &ChatStream::content)
      .def_property_readonly("usage", [](const ChatStream& s) -> py::object {
        if (!s.usage()) return py::none();
        return usage_dict(*s.usage());
      });

  py::class_<AzureOpenAIClient, std::shared_ptr<AzureOpenAIClient>>(m, "AzureOpenAICore")
      .def(py::init([](std::shared_ptr<HttpTransport> transport, std::string endpoint,
                       std::string api_version, std::string chat_deployment,
                       std::string embedding_deployment, std::optional<Secret> api_key,
                       std::shared_ptr<EntraCredential> credential, RetryPolicy retry,
                       double timeout, double connect_timeout,
                       std::shared_ptr<UsageSink> usage_sink, std::shared_ptr<ManualTime> manual) {
             const auto time = time_of(manual);
             AzureOpenAIConfig config{std::move(endpoint),
                                      std::move(api_version),
                                      std::move(chat_deployment),
                                      std::move(embedding_deployment),
                                      std::move(api_key),
                                      std::move(credential),
                                      std::move(retry),
                                      milliseconds_of(timeout, "timeout"),
                                      milliseconds_of(connect_timeout, "connect_timeout")};
             return std::make_shared<AzureOpenAIClient>(std::move(config), std::move(transport),
                                                        std::move(usage_sink), time.clock,
                                                        *time.sleeper);
           }),
           py::kw_only(), py::arg("transport"), py::arg("endpoint"), py::arg("api_version"),
           py::arg("chat_deployment"), py::arg("embedding_deployment"), py::arg("api_key"),
           py::arg("credential"), py::arg("retry"), py::arg("timeout"), py::arg("connect_timeout"),
           py::arg("usage_sink"), py::arg("time"),
           py::keep_alive<1, 12>())  // the sink refers to its engine
      .def(
          "complete",
          [](const AzureOpenAIClient& c,
             const std::vector<std::pair<std::string, std::string>>& messages,
             std::string deployment, int max_tokens, std::optional<double> temperature,
             std::optional<std::string> response_format, std::string task_id,
             std::string correlation_id) {
            ChatCompletion out;
            {
              py::gil_scoped_release release;
              out = c.complete(ChatRequest{messages_of(messages), std::move(deployment), max_tokens,
                                           temperature, std::move(response_format),
                                           std::move(task_id), std::move(correlation_id)},
                               interrupt_check());
            }
            py::dict d;
            d["id"] = out.id;
            d["model"] = out.model;
            d["content"] = out.content;
            d["finish_reason"] = out.finish_reason;
            d["usage"] = usage_dict(out.usage);
            d["attempts"] = out.attempts;
            return d;
          },
          py::arg("messages"), py::arg("deployment"), py::arg("max_tokens"), py::arg("temperature"),
          py::arg("response_format"), py::arg("task_id"), py::arg("correlation_id"))
      .def(
          "stream",
          [](const AzureOpenAIClient& c,
             const std::vector<std::pair<std::string, std::string>>& messages,
             std::string deployment, int max_tokens, std::optional<double> temperature,
             std::optional<std::string> response_format, std::string task_id,
             std::string correlation_id) {
            py::gil_scoped_release release;
            return c.stream(ChatRequest{messages_of(messages), std::move(deployment), max_tokens,
                                        temperature, std::move(response_format), std::move(task_id),
                                        std::move(correlation_id)},
                            interrupt_check());
          },
          py::arg("messages"), py::arg("deployment"), py::arg("max_tokens"), py::arg("temperature"),
          py::arg("response_format"), py::arg("task_id"), py::arg("correlation_id"),
          py::keep_alive<0, 1>())
      .def(
          "embed",
          [](const AzureOpenAIClient& c, const std::vector<std::string>& texts,
             const std::string& deployment, int dimension, const std::string& task_id,
             const std::string& correlation_id) {
            std::vector<float> rows;
            {
              py::gil_scoped_release release;
              rows =
                  c.embed(texts, deployment, dimension, task_id, correlation_id, interrupt_check());
            }
            py::array_t<float> out(
                {static_cast<py::ssize_t>(texts.size()), static_cast<py::ssize_t>(dimension)});
            std::copy(rows.begin(), rows.end(), out.mutable_data());
            return out;
          },
          py::arg("texts"), py::arg("deployment"), py::arg("dimension"), py::arg("task_id"),
          py::arg("correlation_id"));

  py::class_<AzureOpenAIEmbedder, Embedder, std::shared_ptr<AzureOpenAIEmbedder>>(
      m, "AzureOpenAIEmbedderCore")
      .def(py::init<std::shared_ptr<const AzureOpenAIClient>, std::string, int>(),
           py::arg("client"), py::arg("deployment"), py::arg("dimension"));

  py::class_<ResourceRecorder, std::shared_ptr<ResourceRecorder>>(
      m, "ResourceRecorder", "Where a client records executions (engine_resource_recorder()).");
  m.def(
      "engine_resource_recorder",
      [](engine::TaskEngine& engine,
         const std::string& actor) -> std::shared_ptr<ResourceRecorder> {
        return std::make_shared<engine::TaskResourceRecorder>(engine, actor);
      },
      py::arg("engine"), py::arg("actor"), py::keep_alive<0, 1>(),
      "The engine's resource recorder: executions of a task's statements become its rows.");

  m.def(
      "engine_usage_sink",
      [](engine::TaskEngine& engine) -> std::shared_ptr<UsageSink> {
        return std::make_shared<engine::TaskUsageSink>(engine);
      },
      py::arg("engine"), py::keep_alive<0, 1>(),
      "The engine's usage sink: LLM calls made for a task are charged to it.");
}

}  // namespace aadap::bindings
