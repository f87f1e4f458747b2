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

// Accepts both alphabets, with or without '=' padding, and ignores ASCII whitespace.
// Errors name the offending position but never echo the input (it may be a secret).
Result<std::string> Base64DecodeLenient(std::string_view text);

// Strict base64url without padding, as JOSE requires of protocol fields (e.g. challenge tokens).
bool IsBase64UrlToken(std::string_view text);

}  // namespace certsmith
