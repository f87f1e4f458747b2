// Structured logging: a message plus key=value fields, one line each, to stderr.
// Values from servers are sanitised (control characters escaped) before printing.
// Never pass key material, HMAC keys or tokens as a field.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace certsmith::log {

enum class Level { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

using Field = std::pair<std::string_view, std::string>;

void SetLevel(Level level);
Level GetLevel();
// "text" (default): ts=... level=info msg="..." k=v; "json": one JSON object per line.
void SetFormat(std::string_view format);

void Write(Level level, std::string_view message, std::initializer_list<Field> fields = {});

inline void Debug(std::string_view m, std::initializer_list<Field> f = {}) { Write(Level::kDebug, m, f); }
inline void Info(std::string_view m, std::initializer_list<Field> f = {}) { Write(Level::kInfo, m, f); }
inline void Warn(std::string_view m, std::initializer_list<Field> f = {}) { Write(Level::kWarning, m, f); }
inline void Error(std::string_view m, std::initializer_list<Field> f = {}) { Write(Level::kError, m, f); }

// Escapes control characters and truncates to max_len, for strings that came from a peer.
std::string Sanitize(std::string_view untrusted, size_t max_len = 512);

}  // namespace certsmith::log
