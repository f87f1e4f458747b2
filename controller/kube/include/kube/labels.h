// Label selectors (the string form used in ?labelSelector=): equality (=, ==, !=), set-based
// (in, notin), existence (key, !key). Used by FakeClient and by informer stores to filter
// locally with the same rules the API server applies.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "certsmith/status.h"
#include "kube/client.h"

namespace certsmith::kube {

class LabelSelector {
 public:
  // Empty text selects everything.
  static Result<LabelSelector> Parse(std::string_view text);
  bool Matches(const std::map<std::string, std::string>& labels) const;
  bool MatchesObject(const Json& obj) const;  // reads metadata.labels
  bool Empty() const { return reqs_.empty(); }

 private:
  enum class Op { kEq, kNotEq, kIn, kNotIn, kExists, kNotExists };
  struct Requirement {
    std::string key;
    Op op;
    std::vector<std::string> values;
  };
  std::vector<Requirement> reqs_;
};

// The labels of an object (metadata.labels) as a map; non-string values ignored.
std::map<std::string, std::string> LabelsOf(const Json& obj);

// Field selectors as FakeClient supports them: metadata.name and metadata.namespace with = or !=.
Result<bool> MatchesFieldSelector(std::string_view selector, const Json& obj);

}  // namespace certsmith::kube
