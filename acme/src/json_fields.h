// Reading untrusted JSON from a CA without exceptions: nlohmann::json throws on parse errors and
// on type mismatches, so every access to a CA's document goes through these helpers.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "certsmith/status.h"

namespace certsmith::acme::json_fields {

// Parses text that must be a JSON object; `what` names it in the error ("order").
Result<nlohmann::json> ParseObject(std::string_view text, std::string_view what);

// The member as a string; "" when missing or not a string.
std::string String(const nlohmann::json& object, std::string_view key);
// The member as a list of strings; non-string entries are skipped.
std::vector<std::string> StringList(const nlohmann::json& object, std::string_view key);
bool Bool(const nlohmann::json& object, std::string_view key);
std::optional<int> Int(const nlohmann::json& object, std::string_view key);
// The member if present and an object / array, else nullptr.
const nlohmann::json* Object(const nlohmann::json& object, std::string_view key);
const nlohmann::json* Array(const nlohmann::json& object, std::string_view key);

// Serialises without throwing on invalid UTF-8 (replaced), for payloads we keep.
std::string Dump(const nlohmann::json& value);

}  // namespace certsmith::acme::json_fields
