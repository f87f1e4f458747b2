#include "kube/labels.h"

#include <algorithm>

namespace certsmith::kube {
namespace {

std::string Trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return "";
  size_t e = s.find_last_not_of(" \t");
  return std::string(s.substr(b, e - b + 1));
}

// Splits on commas that are not inside parentheses ("a in (x,y),b=c").
std::vector<std::string> SplitTopLevel(std::string_view text) {
  std::vector<std::string> parts;
  int depth = 0;
  std::string cur;
  for (char c : text) {
    if (c == '(') depth++;
    if (c == ')') depth--;
    if (c == ',' && depth == 0) {
      parts.push_back(Trim(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  parts.push_back(Trim(cur));
  return parts;
}

Status BadSelector(std::string_view text, std::string_view why) {
  return MakeError(ErrorCode::kInvalidArgument,
                   "label selector \"" + std::string(text) + "\": " + std::string(why));
}

}  // namespace

Result<LabelSelector> LabelSelector::Parse(std::string_view text) {
  LabelSelector sel;
  if (Trim(text).empty()) return sel;
  for (const std::string& part : SplitTopLevel(text)) {
    if (part.empty()) return BadSelector(text, "empty requirement");
    Requirement req;
    size_t pos;
    if (part[0] == '!') {
      req.key = Trim(part.substr(1));
      req.op = Op::kNotExists;
    } else if ((pos = part.find("!=")) != std::string::npos) {
      req.key = Trim(part.substr(0, pos));
      req.op = Op::kNotEq;
      req.values.push_back(Trim(part.substr(pos + 2)));
    } else if ((pos = part.find("==")) != std::string::npos) {
      req.key = Trim(part.substr(0, pos));
      req.op = Op::kEq;
      req.values.push_back(Trim(part.substr(pos + 2)));
    } else if ((pos = part.find('=')) != std::string::npos) {
      req.key = Trim(part.substr(0, pos));
      req.op = Op::kEq;
      req.values.push_back(Trim(part.substr(pos + 1)));
    } else if ((pos = part.find(" notin ")) != std::string::npos ||
               (pos = part.find(" in ")) != std::string::npos) {
      bool notin = part.compare(pos, 7, " notin ") == 0;
      req.key = Trim(part.substr(0, pos));
      req.op = notin ? Op::kNotIn : Op::kIn;
      std::string set = Trim(part.substr(pos + (notin ? 7 : 4)));
      if (set.size() < 2 || set.front() != '(' || set.back() != ')')
        return BadSelector(text, "set must be in parentheses");
      for (const std::string& v : SplitTopLevel(set.substr(1, set.size() - 2)))
        req.values.push_back(v);
    } else {
      req.key = part;
      req.op = Op::kExists;
    }
    if (req.key.empty() || req.key.find(' ') != std::string::npos)
      return BadSelector(text, "bad key in \"" + part + "\"");
    sel.reqs_.push_back(std::move(req));
  }
  return sel;
}

bool LabelSelector::Matches(const std::map<std::string, std::string>& labels) const {
  for (const Requirement& r : reqs_) {
    auto it = labels.find(r.key);
    bool has = it != labels.end();
    bool in = has && std::find(r.values.begin(), r.values.end(), it->second) != r.values.end();
    switch (r.op) {
      case Op::kEq:
      case Op::kIn:
        if (!in) return false;
        break;
      case Op::kNotEq:
      case Op::kNotIn:
        if (in) return false;
        break;
      case Op::kExists:
        if (!has) return false;
        break;
      case Op::kNotExists:
        if (has) return false;
        break;
    }
  }
  return true;
}

bool LabelSelector::MatchesObject(const Json& obj) const { return Empty() || Matches(LabelsOf(obj)); }

std::map<std::string, std::string> LabelsOf(const Json& obj) {
  std::map<std::string, std::string> out;
  auto m = obj.find("metadata");
  if (m == obj.end() || !m->is_object()) return out;
  auto l = m->find("labels");
  if (l == m->end() || !l->is_object()) return out;
  for (auto it = l->begin(); it != l->end(); ++it)
    if (it.value().is_string()) out[it.key()] = it.value().get<std::string>();
  return out;
}

Result<bool> MatchesFieldSelector(std::string_view selector, const Json& obj) {
  for (const std::string& part : SplitTopLevel(selector)) {
    if (part.empty()) continue;
    bool neg = false;
    size_t pos = part.find("!=");
    size_t vlen = 2;
    if (pos != std::string::npos) {
      neg = true;
    } else if ((pos = part.find("==")) == std::string::npos) {
      pos = part.find('=');
      vlen = 1;
    }
    if (pos == std::string::npos)
      return MakeError(ErrorCode::kInvalidArgument, "field selector \"" + part + "\": no operator");
    std::string field = Trim(part.substr(0, pos));
    std::string want = Trim(part.substr(pos + vlen));
    std::string have;
    if (field == "metadata.name") {
      have = GetName(obj);
    } else if (field == "metadata.namespace") {
      have = GetNamespace(obj);
    } else {
      return MakeError(ErrorCode::kInvalidArgument,
                       "field selector: field \"" + field + "\" is not supported");
    }
    if ((have == want) == neg) return false;
  }
  return true;
}

}  // namespace certsmith::kube
