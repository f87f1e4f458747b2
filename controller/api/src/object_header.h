// The apiVersion/kind/metadata every certsmith object starts with.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

#include "api/field_errors.h"
#include "api/meta.h"

namespace certsmith::api::internal {

// Checks apiVersion (when present) and kind (one of kinds, when present), reads metadata.
// Returns the kind found (or the first of kinds when absent).
std::string ReadHeader(const Json& object, std::string_view api_version,
                       std::initializer_list<std::string_view> kinds, ObjectMeta* meta,
                       FieldErrors* errors);

// "Certificate ns/name" for error messages.
std::string Describe(std::string_view kind, const ObjectMeta& meta);

// Json {apiVersion, kind, metadata}.
Json Header(std::string_view api_version, std::string_view kind, const ObjectMeta& meta);

}  // namespace certsmith::api::internal
