#include "json_fields.h"

namespace certsmith::acme::json_fields {

using nlohmann::json;

Result<json> ParseObject(std::string_view text, std::string_view what) {
  json parsed = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    return MakeError(ErrorCode::kProtocol,
                     "the ACME server sent a " + std::string(what) + " that is not valid JSON");
  }
  if (!parsed.is_object()) {
    return MakeError(ErrorCode::kProtocol,
                     "the ACME server sent a " + std::string(what) + " that is not a JSON object");
  }
  return parsed;
}

namespace {
const json* Member(const json& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}
}  // namespace

std::string String(const json& object, std::string_view key) {
  const json* v = Member(object, key);
  return v != nullptr && v->is_string() ? v->get<std::string>() : std::string();
}

std::vector<std::string> StringList(const json& object, std::string_view key) {
  std::vector<std::string> out;
  const json* v = Member(object, key);
  if (v == nullptr || !v->is_array()) return out;
  for (const json& item : *v) {
    if (item.is_string()) out.push_back(item.get<std::string>());
  }
  return out;
}

bool Bool(const json& object, std::string_view key) {
  const json* v = Member(object, key);
  return v != nullptr && v->is_boolean() && v->get<bool>();
}

std::optional<int> Int(const json& object, std::string_view key) {
  const json* v = Member(object, key);
  if (v == nullptr || !v->is_number_integer()) return std::nullopt;
  return v->get<int>();
}

const json* Object(const json& object, std::string_view key) {
  const json* v = Member(object, key);
  return v != nullptr && v->is_object() ? v : nullptr;
}

const json* Array(const json& object, std::string_view key) {
  const json* v = Member(object, key);
  return v != nullptr && v->is_array() ? v : nullptr;
}

std::string Dump(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace certsmith::acme::json_fields
