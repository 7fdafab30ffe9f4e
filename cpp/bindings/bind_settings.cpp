#include "bindings.hpp"

#include "aadap/core/errors.hpp"
#include "aadap/core/settings.hpp"

#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

namespace py = pybind11;

namespace aadap::bindings {

namespace {

EnvironmentMap to_map(const py::object& mapping) {
  EnvironmentMap out;
  for (const auto& item : py::reinterpret_borrow<py::dict>(py::dict(mapping))) {
    if (!py::isinstance<py::str>(item.first) || !py::isinstance<py::str>(item.second)) {
      throw InvalidTypeError("environment mappings must map str to str");
    }
    out[item.first.cast<std::string>()] = item.second.cast<std::string>();
  }
  return out;
}

template <class Enum, class Name>
auto enum_as_text(Enum Settings::*member, Name name) {
  return [member, name](const Settings& s) { return std::string(name(s.*member)); };
}

}  // namespace

void bind_settings(py::module_& m) {
  py::class_<Secret>(m, "Secret",
                     "A value that never prints: str() and repr() show the mask; reveal() (or "
                     "get_secret_value()) returns it.")
      .def(py::init<std::string>(), py::arg("value"))
      .def("reveal", &Secret::reveal)
      .def("get_secret_value", &Secret::reveal)
      .def("__str__", [](const Secret&) { return std::string(kMask); })
      .def("__repr__", [](const Secret&) { return "Secret('" + std::string(kMask) + "')"; })
      .def("__bool__", [](const Secret& s) { return !s.empty(); })
      .def("__eq__", [](const Secret& a, const Secret& b) { return a == b; })
      .def("__hash__", [](const Secret& s) { return py::hash(py::str(s.reveal())); })
      .def(py::pickle(
          [](const Secret&) -> py::tuple {
            throw InvalidTypeError("a Secret cannot be pickled (it would leak)");
          },
          [](const py::tuple&) -> Secret { return Secret(); }));

  py::class_<PlatformTargets>(m, "PlatformTargets",
                              "Databricks and Fabric targets of one task environment.")
      .def_readonly("databricks_host", &PlatformTargets::databricks_host)
      .def_readonly("databricks_warehouse_id", &PlatformTargets::databricks_warehouse_id)
      .def_readonly("databricks_cluster_id", &PlatformTargets::databricks_cluster_id)
      .def_readonly("databricks_catalog", &PlatformTargets::databricks_catalog)
      .def_readonly("databricks_schema", &PlatformTargets::databricks_schema)
      .def_readonly("fabric_workspace_id", &PlatformTargets::fabric_workspace_id)
      .def_readonly("fabric_lakehouse_id", &PlatformTargets::fabric_lakehouse_id);

  py::class_<Settings>(m, "Settings")
      .def_static(
          "from_env",
          [](const std::optional<py::object>& environ,
             const std::optional<std::filesystem::path>& dotenv) {
            const EnvironmentMap file = dotenv ? read_dotenv(*dotenv) : EnvironmentMap{};
            if (!environ) return Settings::from_maps(process_environment(), file);
            return Settings::from_maps(to_map(*environ), file);
          },
          py::arg("environ") = py::none(), py::arg("dotenv") = std::filesystem::path(".env"),
          "Settings from `environ` (default: the process environment) and the .env file "
          "`dotenv` (default ./.env; None to skip). The environment wins over the file. Raises "
          "ConfigurationError listing every invalid variable.")
      .def_readonly("app_name", &Settings::app_name)
      .def_property_readonly("environment", enum_as_text(&Settings::environment, environment_name))
      .def_readonly("debug", &Settings::debug)
      .def_readonly("database_url", &Settings::database_url)
      .def_readonly("db_pool_size", &Settings::db_pool_size)
      .def_readonly("db_pool_overflow", &Settings::db_pool_overflow)
      .def_readonly("db_echo_sql", &Settings::db_echo_sql)
      .def_readonly("memory_default_ttl_seconds", &Settings::memory_default_ttl_seconds)
      .def_readonly("memory_max_bytes", &Settings::memory_max_bytes)
      .def_property_readonly("log_level", enum_as_text(&Settings::log_level, log::level_name))
      .def_property_readonly(
          "effective_log_level",
          [](const Settings& s) { return std::string(log::level_name(s.effective_log_level())); })
      .def_property_readonly("log_format", enum_as_text(&Settings::log_format, log::format_name))
      .def_readonly("correlation_id_header", &Settings::correlation_id_header)
      .def_readonly("azure_openai_api_key", &Settings::azure_openai_api_key)
      .def_readonly("azure_openai_endpoint", &Settings::azure_openai_endpoint)
      .def_readonly("azure_openai_api_version", &Settings::azure_openai_api_version)
      .def_readonly("azure_openai_deployment_name", &Settings::azure_openai_deployment_name)
      .def_readonly("azure_openai_embedding_deployment",
                    &Settings::azure_openai_embedding_deployment)
      .def_readonly("azure_openai_tenant_id", &Settings::azure_openai_tenant_id)
      .def_readonly("azure_openai_client_id", &Settings::azure_openai_client_id)
      .def_readonly("azure_openai_client_secret", &Settings::azure_openai_client_secret)
      .def_readonly("databricks_token", &Settings::databricks_token)
      .def_readonly("databricks_client_id", &Settings::databricks_client_id)
      .def_readonly("databricks_client_secret", &Settings::databricks_client_secret)
      .def_readonly("fabric_tenant_id", &Settings::fabric_tenant_id)
      .def_readonly("fabric_client_id", &Settings::fabric_client_id)
      .def_readonly("fabric_client_secret", &Settings::fabric_client_secret)
      .def_readonly("fabric_api_base", &Settings::fabric_api_base)
      .def_readonly("entra_authority", &Settings::entra_authority)
      .def_readonly("sandbox", &Settings::sandbox)
      .def_readonly("production", &Settings::production)
      .def_readonly("token_budget_default", &Settings::token_budget_default)
      .def_readonly("approval_timeout_seconds", &Settings::approval_timeout_seconds)
      .def_readonly("vector_min_similarity", &Settings::vector_min_similarity)
      .def_readonly("vector_max_staleness_days", &Settings::vector_max_staleness_days)
      .def_property_readonly("sqlite_synchronous",
                             enum_as_text(&Settings::sqlite_synchronous, synchronous_name))
      .def_readonly("approval_allow_self", &Settings::approval_allow_self)
      .def_readonly("tls_verify", &Settings::tls_verify)
      .def_readonly("ca_bundle", &Settings::ca_bundle)
      .def_readonly("embedding_dimension", &Settings::embedding_dimension)
      .def_readonly("llm_price_input_per_1k", &Settings::llm_price_input_per_1k)
      .def_readonly("llm_price_output_per_1k", &Settings::llm_price_output_per_1k)
      .def_readonly("ignored_deprecated", &Settings::ignored_deprecated)
      .def(
          "targets",
          [](const Settings& s, const std::string& environment) {
            return s.targets(parse_task_environment(environment));
          },
          py::arg("environment"),
          "The platform targets a task of this environment (SANDBOX or PRODUCTION) may use.")
      .def(
          "describe",
          [](const Settings& s) {
            py::list out;
            for (const auto& v : s.describe()) {
              py::dict row;
              row["variable"] = v.variable;
              row["field"] = v.field;
              row["value"] = v.is_set ? py::object(py::str(v.display)) : py::none();
              row["secret"] = v.secret;
              row["source"] = std::string(source_name(v.source));
              out.append(row);
            }
            return out;
          },
          "Every setting in table order as dicts (variable, field, value, secret, source); "
          "secret values are masked.");
}

}  // namespace aadap::bindings
