#include "api/meta.h"

#include "json_reader.h"

namespace certsmith::api {

using internal::JsonReader;

ObjectMeta ObjectMeta::FromJson(const Json& meta, FieldErrors* errors) {
  JsonReader r(&meta, "metadata", errors);
  ObjectMeta m;
  m.name = r.String("name");
  m.namespace_ = r.String("namespace");
  m.uid = r.String("uid");
  m.resource_version = r.String("resourceVersion");
  m.generation = r.Int("generation").value_or(0);
  m.labels = r.StringMapField("labels");
  m.annotations = r.StringMapField("annotations");
  m.creation_timestamp = r.Time("creationTimestamp");
  m.deletion_timestamp = r.Time("deletionTimestamp");
  return m;
}

Json ObjectMeta::ToJson() const {
  Json j = Json::object();
  internal::PutString(j, "name", name);
  internal::PutString(j, "namespace", namespace_);
  internal::PutString(j, "uid", uid);
  internal::PutString(j, "resourceVersion", resource_version);
  internal::PutInt(j, "generation", generation);
  internal::PutMap(j, "labels", labels);
  internal::PutMap(j, "annotations", annotations);
  internal::PutTime(j, "creationTimestamp", creation_timestamp);
  return j;
}

Json SecretKeySelector::ToJson() const {
  Json j = Json::object();
  internal::PutString(j, "name", name);
  internal::PutString(j, "key", key);
  return j;
}

Json IssuerRef::ToJson() const { return Json{{"name", name}, {"kind", kind}, {"group", group}}; }

}  // namespace certsmith::api
