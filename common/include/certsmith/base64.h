// Base64 (RFC 4648). Encoders emit the canonical form; the decoder is lenient where users
// paste keys from CA portals: padded or unpadded, base64url or standard alphabet, surrounding
// whitespace ignored.
#pragma once

#include <string>
#include <string_view>

#include "certsmith/status.h"

namespace certsmith {

std::string Base64Encode(std::string_view data);     // standard alphabet, padded
std::string Base64UrlEncode(std::string_view data);  // url alphabet, no padding (JOSE)

// Accepts both alphabets, with or without '=' padding (when present it must complete the last
// group), and ignores ASCII whitespace. Errors are InvalidArgument with a message that names the
// offending 1-based position ("character at position 17 is not in the base64 or base64url
// alphabet") but never echoes the input (it may be a secret); callers add what they decoded.
Result<std::string> Base64DecodeLenient(std::string_view text);

// Strict base64url without padding, as JOSE requires of protocol fields (e.g. challenge tokens).
bool IsBase64UrlToken(std::string_view text);

}  // namespace certsmith
