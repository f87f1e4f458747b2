#include "acme/certificate.h"

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cctype>
#include <cstdio>
#include <ctime>

#include "certsmith/base64.h"
#include "certsmith/time_point.h"
#include "openssl_util.h"

namespace certsmith::acme {

namespace {

using internal::OpenSslError;
using std::chrono::system_clock;

constexpr std::string_view kBegin = "-----BEGIN CERTIFICATE-----";
constexpr std::string_view kEnd = "-----END CERTIFICATE-----";

Status Invalid(std::string message) {
  return Status(ErrorCode::kInvalidArgument, std::move(message));
}

// RFC 2253 one-line form, keeping UTF-8 as UTF-8 instead of \XX escapes.
std::string NameToString(const X509_NAME* name) {
  internal::BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio) return {};
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  return internal::BioContents(bio.get());
}

std::string CommonName(const X509_NAME* name) {
  int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (i < 0) return {};
  unsigned char* utf8 = nullptr;
  int len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
  if (len < 0) return {};
  internal::OpenSslStringPtr owner(reinterpret_cast<char*>(utf8));
  return std::string(owner.get(), static_cast<size_t>(len));
}

Result<std::string> SerialHex(const X509* cert) {
  internal::BignumPtr bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr));
  if (!bn) return OpenSslError("reading the serial number");
  internal::OpenSslStringPtr hex(BN_bn2hex(bn.get()));
  if (!hex) return OpenSslError("reading the serial number");
  return std::string(hex.get());
}

// ASN1_TIME (UTCTime or GeneralizedTime, always UTC in certificates) to a time_point.
Result<system_clock::time_point> ToTimePoint(const ASN1_TIME* t) {
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return OpenSslError("reading a validity date");
  using namespace std::chrono;
  year_month_day date{year{tm.tm_year + 1900}, month{static_cast<unsigned>(tm.tm_mon + 1)},
                      day{static_cast<unsigned>(tm.tm_mday)}};
  const sys_seconds at =
      sys_days{date} + hours{tm.tm_hour} + minutes{tm.tm_min} + seconds{tm.tm_sec};
  return TimePointFromSeconds(at.time_since_epoch().count());  // 9999-12-31: "no expiration"
}

void ReadSans(X509* cert, CertificateInfo& info) {
  internal::GeneralNamesPtr names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  if (!names) return;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    int type = 0;
    const auto* value = static_cast<const ASN1_STRING*>(GENERAL_NAME_get0_value(name, &type));
    if (type == GEN_DNS) {
      info.dns_names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(value)),
                                  static_cast<size_t>(ASN1_STRING_length(value)));
    } else if (type == GEN_IPADD) {
      std::string text =
          internal::IpBytesToText(ASN1_STRING_get0_data(value), ASN1_STRING_length(value));
      if (!text.empty()) info.ip_addresses.push_back(std::move(text));
    } else if (type == GEN_URI || type == GEN_EMAIL) {
      (type == GEN_URI ? info.uris : info.email_addresses)
          .emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(value)),
                        static_cast<size_t>(ASN1_STRING_length(value)));
    }
  }
}

Result<std::string> SpkiSha256(X509* cert) {
  unsigned char* der = nullptr;
  int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);
  if (len <= 0) return OpenSslError("encoding the certificate's public key");
  internal::OpenSslStringPtr owner(reinterpret_cast<char*>(der));
  return internal::HexLower(internal::Sha256(std::string_view(owner.get(), len)));
}

// The serial's INTEGER content octets as DER encodes them (with a leading 0x00 when the high bit
// is set), without the tag and length: what RFC 9773 §4.1 asks for.
std::string SerialContentOctets(const ASN1_INTEGER* serial) {
  int len = i2d_ASN1_INTEGER(serial, nullptr);
  if (len <= 0) return {};
  std::string der(static_cast<size_t>(len), '\0');
  auto* p = reinterpret_cast<unsigned char*>(der.data());
  i2d_ASN1_INTEGER(serial, &p);
  // Skip tag (1 byte) and the length: short form (1 byte) or long form (1 + n bytes).
  size_t header = 2;
  if (static_cast<unsigned char>(der[1]) & 0x80)
    header += static_cast<unsigned char>(der[1]) & 0x7f;
  return header <= der.size() ? der.substr(header) : std::string();
}

// RFC 9773 §4.1: base64url(AKI keyIdentifier) "." base64url(serial octets); "" when unnamed.
std::string AriCertIdOf(X509* cert) {
  const ASN1_OCTET_STRING* aki = X509_get0_authority_key_id(cert);
  if (aki == nullptr || ASN1_STRING_length(aki) <= 0) return "";
  std::string key_id(reinterpret_cast<const char*>(ASN1_STRING_get0_data(aki)),
                     static_cast<size_t>(ASN1_STRING_length(aki)));
  std::string serial = SerialContentOctets(X509_get0_serialNumber(cert));
  if (serial.empty()) return "";
  return Base64UrlEncode(key_id) + "." + Base64UrlEncode(serial);
}

Result<CertificateInfo> Describe(X509* cert) {
  CertificateInfo info;
  info.subject = NameToString(X509_get_subject_name(cert));
  info.common_name = CommonName(X509_get_subject_name(cert));
  info.subject_fields = internal::SubjectFromName(X509_get_subject_name(cert));
  info.issuer = NameToString(X509_get_issuer_name(cert));
  info.issuer_common_name = CommonName(X509_get_issuer_name(cert));
  ASSIGN_OR_RETURN(info.serial_hex, SerialHex(cert));
  ASSIGN_OR_RETURN(info.not_before, ToTimePoint(X509_get0_notBefore(cert)));
  ASSIGN_OR_RETURN(info.not_after, ToTimePoint(X509_get0_notAfter(cert)));
  ReadSans(cert, info);
  ASSIGN_OR_RETURN(info.public_key_sha256, SpkiSha256(cert));
  info.is_ca = (X509_get_extension_flags(cert) & EXFLAG_CA) != 0;
  info.ari_cert_id = AriCertIdOf(cert);
  return info;
}

Result<internal::X509Ptr> ReadFirstPem(std::string_view pem) {
  internal::BioPtr bio = internal::ReadOnlyBio(pem);
  if (!bio) return OpenSslError("reading the certificate");
  // Skips PEM blocks of other types before the first CERTIFICATE.
  internal::X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return OpenSslError("no PEM certificate", ErrorCode::kInvalidArgument);
  return cert;
}

int TwoDigits(std::string_view s, size_t pos) {
  if (pos + 2 > s.size() || !std::isdigit(static_cast<unsigned char>(s[pos])) ||
      !std::isdigit(static_cast<unsigned char>(s[pos + 1]))) {
    return -1;
  }
  return (s[pos] - '0') * 10 + (s[pos + 1] - '0');
}

}  // namespace

Result<std::vector<std::string>> SplitPemCertificates(std::string_view pem_bundle) {
  std::vector<std::string> out;
  size_t pos = 0;
  while ((pos = pem_bundle.find(kBegin, pos)) != std::string_view::npos) {
    size_t end = pem_bundle.find(kEnd, pos + kBegin.size());
    if (end == std::string_view::npos) {
      return Invalid("certificate " + std::to_string(out.size() + 1) +
                     " in the PEM bundle has no END line");
    }
    end += kEnd.size();
    std::string block(pem_bundle.substr(pos, end - pos));
    block.push_back('\n');
    out.push_back(std::move(block));
    pos = end;
  }
  if (out.empty()) return Invalid("no PEM certificate found");
  return out;
}

Result<CertificateInfo> ParseCertificatePem(std::string_view pem) {
  ASSIGN_OR_RETURN(internal::X509Ptr cert, ReadFirstPem(pem));
  return Describe(cert.get());
}

Result<CertificateInfo> ParseCertificateDer(std::string_view der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  internal::X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!cert) return OpenSslError("not a DER certificate", ErrorCode::kInvalidArgument);
  return Describe(cert.get());
}

Result<std::string> CertificatePemToDer(std::string_view pem) {
  ASSIGN_OR_RETURN(internal::X509Ptr cert, ReadFirstPem(pem));
  unsigned char* der = nullptr;
  int len = i2d_X509(cert.get(), &der);
  if (len <= 0) return OpenSslError("encoding the certificate");
  internal::OpenSslStringPtr owner(reinterpret_cast<char*>(der));
  return std::string(owner.get(), static_cast<size_t>(len));
}

bool CertificateMatchesKey(std::string_view pem, const PrivateKey& key) {
  auto cert = ReadFirstPem(pem);
  if (!cert.ok()) return false;
  EVP_PKEY* pub = X509_get0_pubkey(cert->get());
  bool same = pub != nullptr && EVP_PKEY_eq(pub, key.get()) == 1;
  internal::ClearOpenSslErrors();
  return same;
}

std::string FormatRfc3339(system_clock::time_point t) {
  using namespace std::chrono;
  auto secs = floor<seconds>(t);
  auto days = floor<std::chrono::days>(secs);
  year_month_day date{days};
  hh_mm_ss<seconds> time{secs - days};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
                static_cast<int>(time.seconds().count()));
  return buf;
}

// RFC 3339 §5.6: full-date "T" full-time, time-offset "Z" or ("+" / "-") HH:MM.
Result<system_clock::time_point> ParseRfc3339(std::string_view text) {
  using namespace std::chrono;
  auto bad = [&](const char* why) {
    return Invalid("\"" + std::string(text.substr(0, 64)) + "\" is not an RFC 3339 time: " + why);
  };
  if (text.size() < 20) return bad("too short");
  int y1 = TwoDigits(text, 0), y2 = TwoDigits(text, 2), mo = TwoDigits(text, 5),
      d = TwoDigits(text, 8), h = TwoDigits(text, 11), mi = TwoDigits(text, 14),
      s = TwoDigits(text, 17);
  if (y1 < 0 || y2 < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || s < 0 || text[4] != '-' ||
      text[7] != '-' || (text[10] != 'T' && text[10] != 't') || text[13] != ':' ||
      text[16] != ':') {
    return bad("expected YYYY-MM-DDTHH:MM:SS");
  }
  year_month_day date{year{y1 * 100 + y2}, month{static_cast<unsigned>(mo)},
                      day{static_cast<unsigned>(d)}};
  if (!date.ok()) return bad("no such date");
  if (h > 23 || mi > 59 || s > 60) return bad("time out of range");  // 60: leap second
  size_t pos = 19;
  nanoseconds fraction{0};
  if (pos < text.size() && text[pos] == '.') {
    size_t start = ++pos;
    long long scale = 100000000;
    while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
      fraction += nanoseconds{(text[pos] - '0') * scale};
      scale /= 10;  // digits past nanoseconds count for nothing
      ++pos;
    }
    if (pos == start) return bad("empty fractional seconds");
  }
  minutes offset{0};
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int oh = TwoDigits(text, pos + 1), om = TwoDigits(text, pos + 4);
    if (oh < 0 || om < 0 || pos + 6 > text.size() || text[pos + 3] != ':' || oh > 23 || om > 59) {
      return bad("bad offset");
    }
    offset = hours{oh} + minutes{om};
    if (text[pos] == '-') offset = -offset;
    pos += 6;
  } else {
    return bad("missing Z or offset");
  }
  if (pos != text.size()) return bad("trailing characters");
  const sys_seconds utc = sys_days{date} + hours{h} + minutes{mi} + seconds{s} - offset;
  const system_clock::time_point whole = TimePointFromSeconds(utc.time_since_epoch().count());
  return whole + duration_cast<system_clock::duration>(fraction);
}

}  // namespace certsmith::acme
