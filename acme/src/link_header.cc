#include "acme/link_header.h"

#include <cctype>

namespace certsmith::acme {

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// A cursor over one header value; the grammar is RFC 8288 §3.
class LinkScanner {
 public:
  explicit LinkScanner(std::string_view text) : s_(text) {}

  bool AtEnd() {
    SkipSpace();
    return i_ >= s_.size();
  }

  // Parses one link-value; on malformed input skips to the next top-level comma and returns
  // false.
  bool Next(std::string& target, std::vector<std::pair<std::string, std::string>>& params) {
    target.clear();
    params.clear();
    SkipSpace();
    if (!Consume('<')) return SkipToNextLink();
    size_t close = s_.find('>', i_);
    if (close == std::string_view::npos) return SkipToNextLink();
    target = std::string(s_.substr(i_, close - i_));
    i_ = close + 1;
    while (true) {
      SkipSpace();
      if (i_ >= s_.size()) return true;
      if (Consume(',')) return true;
      if (!Consume(';')) return SkipToNextLink();
      SkipSpace();
      std::string name = Lower(Token());
      if (name.empty()) return SkipToNextLink();
      SkipSpace();
      std::string value;
      if (Consume('=')) {
        SkipSpace();
        value = Peek() == '"' ? Quoted() : Token();
      }
      params.emplace_back(std::move(name), std::move(value));
    }
  }

 private:
  char Peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  bool Consume(char c) {
    if (Peek() != c) return false;
    ++i_;
    return true;
  }
  void SkipSpace() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t')) ++i_;
  }
  std::string Token() {
    size_t start = i_;
    while (i_ < s_.size() && std::string_view(" \t;,=\"").find(s_[i_]) == std::string_view::npos) {
      ++i_;
    }
    return std::string(s_.substr(start, i_ - start));
  }
  // quoted-string with backslash escapes (RFC 9110 §5.6.4).
  std::string Quoted() {
    std::string out;
    ++i_;  // opening quote
    while (i_ < s_.size() && s_[i_] != '"') {
      if (s_[i_] == '\\' && i_ + 1 < s_.size()) ++i_;
      out += s_[i_++];
    }
    if (i_ < s_.size()) ++i_;  // closing quote
    return out;
  }
  bool SkipToNextLink() {
    bool quoted = false;
    while (i_ < s_.size()) {
      char c = s_[i_++];
      if (c == '"') quoted = !quoted;
      if (c == ',' && !quoted) break;
    }
    return false;
  }

  std::string_view s_;
  size_t i_ = 0;
};

struct UrlParts {
  std::string scheme;     // "https"
  std::string authority;  // "host:port"
  std::string path;       // "/a/b"
  std::string rest;       // "?query#fragment"
};

bool HasScheme(std::string_view url) {
  size_t colon = url.find(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  if (!std::isalpha(static_cast<unsigned char>(url[0]))) return false;
  for (size_t i = 1; i < colon; ++i) {
    char c = url[i];
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') {
      return false;
    }
  }
  return true;
}

UrlParts SplitUrl(std::string_view url) {
  UrlParts p;
  if (HasScheme(url)) {
    size_t colon = url.find(':');
    p.scheme = std::string(url.substr(0, colon));
    url.remove_prefix(colon + 1);
  }
  if (url.substr(0, 2) == "//") {
    url.remove_prefix(2);
    size_t end = url.find_first_of("/?#");
    p.authority = std::string(url.substr(0, end));
    url.remove_prefix(end == std::string_view::npos ? url.size() : end);
  }
  size_t rest = url.find_first_of("?#");
  p.path = std::string(url.substr(0, rest));
  if (rest != std::string_view::npos) p.rest = std::string(url.substr(rest));
  return p;
}

// RFC 3986 §5.2.4.
std::string RemoveDotSegments(std::string_view path) {
  std::vector<std::string> out;
  bool absolute = !path.empty() && path[0] == '/';
  bool trailing_slash = false;
  size_t i = absolute ? 1 : 0;
  while (i <= path.size()) {
    size_t end = path.find('/', i);
    if (end == std::string_view::npos) end = path.size();
    std::string_view seg = path.substr(i, end - i);
    trailing_slash = (seg == "." || seg == ".." || (end == path.size() && seg.empty()));
    if (seg == "..") {
      if (!out.empty()) out.pop_back();
    } else if (seg != "." && !(seg.empty() && end == path.size())) {
      out.emplace_back(seg);
    }
    i = end + 1;
  }
  std::string result = absolute ? "/" : "";
  for (size_t k = 0; k < out.size(); ++k) result += (k ? "/" : "") + out[k];
  if (trailing_slash && !out.empty()) result += "/";
  return result;
}

std::string Join(const UrlParts& p) {
  std::string out;
  if (!p.scheme.empty()) out += p.scheme + ":";
  if (!p.authority.empty()) out += "//" + p.authority;
  return out + p.path + p.rest;
}

}  // namespace

bool Link::HasRel(std::string_view rel) const {
  for (const auto& [name, value] : params) {
    if (name != "rel") continue;
    // rel is a space-separated list of relation types, compared case-insensitively.
    std::string lowered = Lower(value);
    std::string wanted = Lower(rel);
    size_t i = 0;
    while (i <= lowered.size()) {
      size_t end = lowered.find(' ', i);
      if (end == std::string::npos) end = lowered.size();
      if (lowered.compare(i, end - i, wanted) == 0 && end - i == wanted.size()) return true;
      i = end + 1;
    }
  }
  return false;
}

std::vector<Link> ParseLinkHeaders(const std::vector<std::string>& values,
                                   std::string_view request_url) {
  std::vector<Link> links;
  for (const std::string& value : values) {
    LinkScanner scanner(value);
    while (!scanner.AtEnd()) {
      Link link;
      if (scanner.Next(link.url, link.params)) {
        link.url = ResolveUrl(request_url, link.url);
        links.push_back(std::move(link));
      }
    }
  }
  return links;
}

std::vector<std::string> LinksWithRel(const std::vector<Link>& links, std::string_view rel) {
  std::vector<std::string> out;
  for (const Link& link : links) {
    if (link.HasRel(rel)) out.push_back(link.url);
  }
  return out;
}

std::string ResolveUrl(std::string_view base, std::string_view reference) {
  UrlParts ref = SplitUrl(reference);
  if (!ref.scheme.empty()) {
    ref.path = RemoveDotSegments(ref.path);
    return Join(ref);
  }
  UrlParts b = SplitUrl(base);
  UrlParts out{b.scheme, {}, {}, ref.rest};
  if (!ref.authority.empty()) {
    out.authority = ref.authority;
    out.path = RemoveDotSegments(ref.path);
  } else if (ref.path.empty()) {
    out.authority = b.authority;
    out.path = b.path;
    if (ref.rest.empty() || ref.rest[0] == '#') {
      size_t hash = b.rest.find('#');
      out.rest = b.rest.substr(0, hash) + ref.rest;
    }
  } else {
    out.authority = b.authority;
    if (ref.path[0] == '/') {
      out.path = RemoveDotSegments(ref.path);
    } else {
      // §5.2.3 merge: the base path without its last segment, then the reference.
      size_t slash = b.path.rfind('/');
      std::string merged = slash == std::string::npos ? (b.authority.empty() ? "" : "/") + ref.path
                                                      : b.path.substr(0, slash + 1) + ref.path;
      out.path = RemoveDotSegments(merged);
    }
  }
  return Join(out);
}

}  // namespace certsmith::acme
