// Validation errors that name the field they are about ("spec.dnsNames[2]: ..."), collected so
// that one apply shows the user every problem at once instead of one per reconcile.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "certsmith/status.h"

namespace certsmith::api {

struct FieldError {
  std::string path;  // "spec.privateKey.size"
  std::string message;
  std::string ToString() const { return path + ": " + message; }
};

class FieldErrors {
 public:
  void Add(std::string path, std::string message) {
    errors_.push_back({std::move(path), std::move(message)});
  }
  bool empty() const { return errors_.empty(); }
  const std::vector<FieldError>& errors() const { return errors_; }
  // Adds other's errors whose path has no error here yet (a field that failed to parse is not
  // also reported by the semantic checks that ran on its empty value).
  void Merge(const FieldErrors& other);
  // True if some error is about exactly this path.
  bool Has(std::string_view path) const;
  // kInvalidArgument "<what> is invalid: a: x; b: y", or OK when empty.
  Status ToStatus(std::string_view what) const;

 private:
  std::vector<FieldError> errors_;
};

// "spec" + "dnsNames" -> "spec.dnsNames"; Index("spec.dnsNames", 2) -> "spec.dnsNames[2]".
std::string FieldPath(std::string_view parent, std::string_view child);
std::string IndexPath(std::string_view parent, size_t index);

}  // namespace certsmith::api
