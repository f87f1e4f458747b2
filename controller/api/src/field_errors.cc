#include "api/field_errors.h"

namespace certsmith::api {

bool FieldErrors::Has(std::string_view path) const {
  for (const FieldError& e : errors_) {
    if (e.path == path) return true;
  }
  return false;
}

void FieldErrors::Merge(const FieldErrors& other) {
  std::vector<FieldError> add;
  for (const FieldError& e : other.errors_) {
    if (!Has(e.path)) add.push_back(e);
  }
  errors_.insert(errors_.end(), add.begin(), add.end());
}

Status FieldErrors::ToStatus(std::string_view what) const {
  if (errors_.empty()) return Status::Ok();
  std::string message(what);
  message += " is invalid: ";
  for (size_t i = 0; i < errors_.size(); ++i) {
    if (i > 0) message += "; ";
    message += errors_[i].ToString();
  }
  return Status(ErrorCode::kInvalidArgument, message);
}

std::string FieldPath(std::string_view parent, std::string_view child) {
  if (parent.empty()) return std::string(child);
  std::string out(parent);
  out += '.';
  out += child;
  return out;
}

std::string IndexPath(std::string_view parent, size_t index) {
  return std::string(parent) + "[" + std::to_string(index) + "]";
}

}  // namespace certsmith::api
