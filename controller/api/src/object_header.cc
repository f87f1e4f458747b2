#include "object_header.h"

#include "json_reader.h"

namespace certsmith::api::internal {

std::string ReadHeader(const Json& object, std::string_view api_version,
                       std::initializer_list<std::string_view> kinds, ObjectMeta* meta,
                       FieldErrors* errors) {
  std::string kind(*kinds.begin());
  if (!object.is_object()) {
    errors->Add("<object>", "must be a JSON object");
    return kind;
  }
  JsonReader r(&object, "", errors);
  std::string version = r.String("apiVersion");
  if (!version.empty() && version != api_version) {
    errors->Add("apiVersion", "must be " + std::string(api_version) + ", not \"" + version + "\"");
  }
  std::string found = r.String("kind");
  if (!found.empty()) {
    bool known = false;
    for (std::string_view k : kinds) known = known || found == k;
    if (known) {
      kind = found;
    } else {
      errors->Add("kind", "unexpected kind \"" + found + "\"");
    }
  }
  auto it = object.find("metadata");
  *meta = ObjectMeta::FromJson(it == object.end() ? Json::object() : *it, errors);
  return kind;
}

std::string Describe(std::string_view kind, const ObjectMeta& meta) {
  std::string out(kind);
  out += ' ';
  if (!meta.namespace_.empty()) out += meta.namespace_ + "/";
  out += meta.name.empty() ? "<unnamed>" : meta.name;
  return out;
}

Json Header(std::string_view api_version, std::string_view kind, const ObjectMeta& meta) {
  return Json{{"apiVersion", api_version}, {"kind", kind}, {"metadata", meta.ToJson()}};
}

}  // namespace certsmith::api::internal
