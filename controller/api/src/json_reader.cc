#include "json_reader.h"

#include "kube/time_format.h"

namespace certsmith::api::internal {

JsonReader::JsonReader(const Json* j, std::string path, FieldErrors* errors)
    : j_(j), path_(std::move(path)), errors_(errors) {
  if (j_ != nullptr && j_->is_null()) j_ = nullptr;
  if (j_ != nullptr && !j_->is_object()) {
    errors_->Add(path_, "must be an object");
    j_ = nullptr;
  }
}

bool JsonReader::Has(std::string_view key) const { return Raw(key) != nullptr; }

const Json* JsonReader::Raw(std::string_view key) const {
  if (j_ == nullptr) return nullptr;
  auto it = j_->find(key);
  if (it == j_->end() || it->is_null()) return nullptr;
  return &*it;
}

const Json* JsonReader::Field(std::string_view key, Json::value_t type,
                              const char* type_name) const {
  const Json* v = Raw(key);
  if (v == nullptr) return nullptr;
  bool ok = v->type() == type || (type == Json::value_t::number_integer && v->is_number_unsigned());
  if (!ok) {
    errors_->Add(Path(key), std::string("must be ") + type_name);
    return nullptr;
  }
  return v;
}

std::string JsonReader::String(std::string_view key) const {
  const Json* v = Field(key, Json::value_t::string, "a string");
  return v ? v->get<std::string>() : std::string();
}

std::string JsonReader::RequiredString(std::string_view key) const {
  bool present = Has(key);
  std::string s = String(key);
  if (s.empty() && (!present || Raw(key)->is_string())) errors_->Add(Path(key), "required");
  return s;
}

bool JsonReader::Bool(std::string_view key) const {
  const Json* v = Field(key, Json::value_t::boolean, "true or false");
  return v ? v->get<bool>() : false;
}

std::optional<int64_t> JsonReader::Int(std::string_view key) const {
  const Json* v = Raw(key);
  if (v == nullptr) return std::nullopt;
  if (v->is_number_integer()) return v->get<int64_t>();
  if (v->is_number_float() && v->get<double>() == static_cast<double>(v->get<int64_t>())) {
    return v->get<int64_t>();  // 2048.0 from YAML/JSON tools that write floats
  }
  errors_->Add(Path(key), "must be an integer");
  return std::nullopt;
}

std::vector<std::string> JsonReader::StringList(std::string_view key) const {
  std::vector<std::string> out;
  const Json* v = Field(key, Json::value_t::array, "a list of strings");
  if (v == nullptr) return out;
  for (size_t i = 0; i < v->size(); ++i) {
    if (!(*v)[i].is_string()) {
      errors_->Add(IndexPath(Path(key), i), "must be a string");
      continue;
    }
    out.push_back((*v)[i].get<std::string>());
  }
  return out;
}

StringMap JsonReader::StringMapField(std::string_view key) const {
  StringMap out;
  const Json* v = Field(key, Json::value_t::object, "a map of strings");
  if (v == nullptr) return out;
  for (auto it = v->begin(); it != v->end(); ++it) {
    if (!it.value().is_string()) {
      errors_->Add(FieldPath(Path(key), it.key()), "must be a string");
      continue;
    }
    out[it.key()] = it.value().get<std::string>();
  }
  return out;
}

std::optional<Duration> JsonReader::DurationField(std::string_view key) const {
  if (!Has(key)) return std::nullopt;
  std::string text = String(key);
  if (text.empty()) return std::nullopt;
  Result<Duration> d = ParseDuration(text);
  if (!d.ok()) {
    errors_->Add(Path(key), d.status().message());
    return std::nullopt;
  }
  return *d;
}

std::optional<Clock::TimePoint> JsonReader::Time(std::string_view key) const {
  std::string text = String(key);
  if (text.empty()) return std::nullopt;
  std::optional<Clock::TimePoint> t = kube::ParseTime(text);
  if (!t) errors_->Add(Path(key), "\"" + text + "\" is not an RFC 3339 UTC time");
  return t;
}

SecretKeySelector JsonReader::SecretRef(std::string_view key) const {
  JsonReader r = Child(key);
  return SecretKeySelector{r.String("name"), r.String("key")};
}

IssuerRef JsonReader::IssuerRefField(std::string_view key) const {
  JsonReader r = Child(key);
  IssuerRef ref;
  ref.name = r.String("name");
  if (std::string kind = r.String("kind"); !kind.empty()) ref.kind = kind;
  if (std::string group = r.String("group"); !group.empty()) ref.group = group;
  return ref;
}

JsonReader JsonReader::Child(std::string_view key) const {
  return JsonReader(Raw(key), Path(key), errors_);
}

void JsonReader::ForEach(std::string_view key,
                         const std::function<void(const JsonReader&, size_t)>& fn) const {
  const Json* v = Field(key, Json::value_t::array, "a list");
  if (v == nullptr) return;
  for (size_t i = 0; i < v->size(); ++i) {
    JsonReader item(&(*v)[i], IndexPath(Path(key), i), errors_);
    fn(item, i);
  }
}

Json JsonReader::Object(std::string_view key) const {
  const Json* v = Field(key, Json::value_t::object, "an object");
  return v ? *v : Json();
}

void PutString(Json& j, const char* key, const std::string& v) {
  if (!v.empty()) j[key] = v;
}
void PutBool(Json& j, const char* key, bool v) {
  if (v) j[key] = true;
}
void PutInt(Json& j, const char* key, int64_t v) {
  if (v != 0) j[key] = v;
}
void PutList(Json& j, const char* key, const std::vector<std::string>& v) {
  if (!v.empty()) j[key] = v;
}
void PutMap(Json& j, const char* key, const StringMap& v) {
  if (!v.empty()) j[key] = v;
}
void PutTime(Json& j, const char* key, const std::optional<Clock::TimePoint>& t) {
  if (t) j[key] = kube::FormatTime(*t);
}
void PutDuration(Json& j, const char* key, const std::optional<Duration>& d) {
  if (d) j[key] = FormatDuration(*d);
}
void PutObject(Json& j, const char* key, const Json& v) {
  if (!v.is_null() && !v.empty()) j[key] = v;
}

}  // namespace certsmith::api::internal
