// Reads typed fields out of untrusted object JSON without throwing, recording a FieldError with
// the full path for every field of the wrong type. Missing fields read as empty.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/duration.h"
#include "api/field_errors.h"
#include "api/meta.h"

namespace certsmith::api::internal {

class JsonReader {
 public:
  // j may be null or absent (nullptr): every read then returns empty. A non-object j is an error.
  JsonReader(const Json* j, std::string path, FieldErrors* errors);

  bool Has(std::string_view key) const;
  const Json* Raw(std::string_view key) const;
  std::string Path(std::string_view key) const { return FieldPath(path_, key); }
  const std::string& path() const { return path_; }
  FieldErrors* errors() const { return errors_; }

  std::string String(std::string_view key) const;
  // Records "<path>: required" when missing or empty.
  std::string RequiredString(std::string_view key) const;
  bool Bool(std::string_view key) const;
  std::optional<int64_t> Int(std::string_view key) const;
  std::vector<std::string> StringList(std::string_view key) const;
  StringMap StringMapField(std::string_view key) const;
  std::optional<Duration> DurationField(std::string_view key) const;
  std::optional<Clock::TimePoint> Time(std::string_view key) const;
  SecretKeySelector SecretRef(std::string_view key) const;
  IssuerRef IssuerRefField(std::string_view key) const;
  // An object child (absent -> a reader over nothing).
  JsonReader Child(std::string_view key) const;
  // Calls fn(reader, index) for each object in the array at key.
  void ForEach(std::string_view key,
               const std::function<void(const JsonReader&, size_t)>& fn) const;
  // Raw JSON value (object) or null.
  Json Object(std::string_view key) const;

 private:
  const Json* Field(std::string_view key, Json::value_t type, const char* type_name) const;

  const Json* j_;
  std::string path_;
  FieldErrors* errors_;
};

// Writers: omit empty values, so serialised specs stay as small as the user's YAML.
void PutString(Json& j, const char* key, const std::string& v);
void PutBool(Json& j, const char* key, bool v);
void PutInt(Json& j, const char* key, int64_t v);
void PutList(Json& j, const char* key, const std::vector<std::string>& v);
void PutMap(Json& j, const char* key, const StringMap& v);
void PutTime(Json& j, const char* key, const std::optional<Clock::TimePoint>& t);
void PutDuration(Json& j, const char* key, const std::optional<Duration>& d);
void PutObject(Json& j, const char* key, const Json& v);  // skipped when null or empty

}  // namespace certsmith::api::internal
