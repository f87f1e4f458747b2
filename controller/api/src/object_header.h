// The apiVersion/kind/metadata every certsmith object starts with.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

#include "api/field_errors.h"
#include "api/meta.h"
#include "json_reader.h"

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

// The FromJson skeleton of every kind: header, then read(root, kind, &object) for the body,
// then T::Validate(); one Status with every error, or the object.
template <typename T, typename ReadBody>
Result<T> ParseObject(const Json& object, std::string_view api_version,
                      std::initializer_list<std::string_view> kinds, ReadBody read) {
  FieldErrors errors;
  T out;
  std::string kind = ReadHeader(object, api_version, kinds, &out.metadata, &errors);
  if (!errors.empty()) return errors.ToStatus(Describe(kind, out.metadata));
  JsonReader root(&object, "", &errors);
  read(root, kind, &out);
  errors.Merge(out.Validate());
  RETURN_IF_ERROR(errors.ToStatus(Describe(kind, out.metadata)));
  return out;
}

}  // namespace certsmith::api::internal
