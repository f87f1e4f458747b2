#include "acme/csr.h"

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>

#include "openssl_util.h"

namespace certsmith::acme {

namespace {

using internal::OpenSslError;

Status Invalid(std::string message) {
  return Status(ErrorCode::kInvalidArgument, std::move(message));
}

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Where each attribute of a Subject lives, its names in ParseSubject, and its OpenSSL NID.
// The order is the X.500 order the CSR subject is written in (most significant first).
struct SubjectField {
  int nid;
  const char* short_name;
  const char* long_name;
  std::vector<std::string> Subject::*list;  // null for the single-valued CN and serialNumber
  std::string Subject::*single;
};

const std::vector<SubjectField>& SubjectFields() {
  static const std::vector<SubjectField> kFields = {
      {NID_countryName, "C", "countryName", &Subject::countries, nullptr},
      {NID_stateOrProvinceName, "ST", "stateOrProvinceName", &Subject::provinces, nullptr},
      {NID_localityName, "L", "localityName", &Subject::localities, nullptr},
      {NID_streetAddress, "STREET", "streetAddress", &Subject::street_addresses, nullptr},
      {NID_postalCode, "postalCode", "postalCode", &Subject::postal_codes, nullptr},
      {NID_organizationName, "O", "organizationName", &Subject::organizations, nullptr},
      {NID_organizationalUnitName, "OU", "organizationalUnitName", &Subject::organizational_units,
       nullptr},
      {NID_serialNumber, "serialNumber", "serialNumber", nullptr, &Subject::serial_number},
      {NID_commonName, "CN", "commonName", nullptr, &Subject::common_name},
  };
  return kFields;
}

const SubjectField* FindField(std::string_view name) {
  std::string lower = AsciiLower(name);
  for (const SubjectField& f : SubjectFields()) {
    if (lower == AsciiLower(f.short_name) || lower == AsciiLower(f.long_name)) return &f;
  }
  if (lower == "s") return FindField("ST");  // an alias some tools write
  return nullptr;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

struct RawAttribute {
  std::string name;
  std::string value;
};

// Splits "A=v1,B=v\,2" into attributes, undoing RFC 4514 escapes ("\," "\\" "\2C") and trimming
// unescaped spaces around names and values.
Result<std::vector<RawAttribute>> SplitAttributes(std::string_view text) {
  std::vector<RawAttribute> out;
  RawAttribute current;
  bool in_value = false;
  size_t keep = 0;  // value length up to and including the last escaped or non-space char
  auto finish = [&](size_t pos) -> Status {
    if (!in_value) {
      return Invalid("subject: expected NAME=value at position " + std::to_string(pos + 1));
    }
    current.value.resize(keep);
    size_t b = current.name.find_first_not_of(' ');
    size_t e = current.name.find_last_not_of(' ');
    current.name = b == std::string::npos ? "" : current.name.substr(b, e - b + 1);
    if (current.name.empty()) {
      return Invalid("subject: missing attribute name before position " + std::to_string(pos + 1));
    }
    out.push_back(std::move(current));
    current = RawAttribute();
    in_value = false;
    keep = 0;
    return Status::Ok();
  };
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (!in_value) {
      if (c == '=') {
        in_value = true;
      } else if (c == ',') {
        return Invalid("subject: expected NAME=value at position " + std::to_string(i + 1));
      } else {
        current.name.push_back(c);
      }
      continue;
    }
    if (c == ',') {
      RETURN_IF_ERROR(finish(i));
      continue;
    }
    if (c == '\\') {
      if (i + 1 >= text.size()) return Invalid("subject: a value ends with a lone backslash");
      int hi = HexValue(text[i + 1]);
      int lo = i + 2 < text.size() ? HexValue(text[i + 2]) : -1;
      if (hi >= 0 && lo >= 0) {
        current.value.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
      } else {
        current.value.push_back(text[++i]);
      }
      keep = current.value.size();
      continue;
    }
    if (c == ' ' && current.value.empty()) continue;  // leading space
    current.value.push_back(c);
    if (c != ' ') keep = current.value.size();
  }
  if (!text.empty()) RETURN_IF_ERROR(finish(text.size()));
  return out;
}

Status StoreAttribute(Subject& subject, const SubjectField& field, std::string value) {
  if (value.empty()) return Invalid(std::string("subject: ") + field.short_name + " is empty");
  if (field.nid == NID_countryName) {
    bool letters = value.size() == 2 && std::isalpha(static_cast<unsigned char>(value[0])) &&
                   std::isalpha(static_cast<unsigned char>(value[1]));
    if (!letters) {
      return Invalid("subject: C must be a two-letter country code (ISO 3166), got \"" + value +
                     "\"");
    }
    for (char& c : value) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  if (field.list != nullptr) {
    (subject.*field.list).push_back(std::move(value));
    return Status::Ok();
  }
  std::string& slot = subject.*field.single;
  if (!slot.empty()) {
    return Invalid(std::string("subject: ") + field.short_name + " is given more than once");
  }
  slot = std::move(value);
  return Status::Ok();
}

std::string EscapeValue(std::string_view value) {
  std::string out;
  for (size_t i = 0; i < value.size(); ++i) {
    char c = value[i];
    bool edge_space = c == ' ' && (i == 0 || i + 1 == value.size());
    if (std::string_view(",\\+=\"<>;").find(c) != std::string_view::npos || edge_space ||
        (c == '#' && i == 0)) {
      out.push_back('\\');
    }
    out.push_back(c);
  }
  return out;
}

// RFC 1035 / RFC 5280 §4.2.1.6 shape of a dNSName: LDH labels, an optional "*." prefix.
Status ValidateDnsName(const std::string& name) {
  if (name.empty()) return Invalid("empty DNS name");
  if (name.size() > 253) return Invalid("DNS name " + name + " is longer than 253 characters");
  std::string_view rest(name);
  if (rest.rfind("*.", 0) == 0) rest.remove_prefix(2);
  size_t label = 0;
  for (char c : rest) {
    auto u = static_cast<unsigned char>(c);
    if (u >= 0x80) {
      return Invalid("DNS name " + name + " is not ASCII: use its A-label (punycode) form");
    }
    if (c == '.') {
      if (label == 0) return Invalid("DNS name " + name + " has an empty label");
      label = 0;
      continue;
    }
    if (!(std::isalnum(u) || c == '-' || c == '_')) {
      return Invalid("DNS name " + name + " has a character not allowed in DNS names");
    }
    if (++label > 63) return Invalid("DNS name " + name + " has a label over 63 characters");
  }
  if (label == 0) return Invalid("DNS name " + name + " has an empty label");
  return Status::Ok();
}

Result<internal::Asn1OctetStringPtr> ParseIp(std::string_view text) {
  std::string copy(text);  // a2i_IPADDRESS wants a NUL-terminated string
  internal::Asn1OctetStringPtr ip(a2i_IPADDRESS(copy.c_str()));
  if (!ip) {
    internal::ClearOpenSslErrors();
    return Invalid("\"" + copy + "\" is not an IPv4 or IPv6 address");
  }
  return ip;
}

struct CsrNames {
  std::vector<std::string> dns;
  std::vector<internal::Asn1OctetStringPtr> ips;
  std::vector<std::string> ip_texts;
  std::vector<std::string> uris;
  std::vector<std::string> emails;
  std::vector<OtherNameSan> other_names;
};

Result<CsrNames> CollectNames(const CsrRequest& request) {
  CsrNames names;
  for (const std::string& raw : request.dns_names) {
    std::string name = NormalizeDnsName(raw);
    RETURN_IF_ERROR(ValidateDnsName(name));
    if (std::find(names.dns.begin(), names.dns.end(), name) == names.dns.end()) {
      names.dns.push_back(std::move(name));
    }
  }
  for (const std::string& raw : request.ip_addresses) {
    ASSIGN_OR_RETURN(auto ip, ParseIp(raw));
    std::string text =
        internal::IpBytesToText(ASN1_STRING_get0_data(ip.get()), ASN1_STRING_length(ip.get()));
    if (std::find(names.ip_texts.begin(), names.ip_texts.end(), text) != names.ip_texts.end()) {
      continue;
    }
    names.ip_texts.push_back(std::move(text));
    names.ips.push_back(std::move(ip));
  }
  if (names.dns.empty() && names.ips.empty()) {
    return Invalid("a certificate request needs at least one DNS name or IP address");
  }
  for (const std::string& u : request.uris) {
    if (u.empty() || u.find(':') == std::string::npos) return Invalid("\"" + u + "\" is not a URI");
    names.uris.push_back(u);
  }
  for (const std::string& e : request.email_addresses) {
    if (e.find('@') == std::string::npos) return Invalid("\"" + e + "\" is not an email address");
    names.emails.push_back(e);
  }
  names.other_names = request.other_names;
  return names;
}

// RFC 8555 §7.4: the CA checks the CSR's names against the order's identifiers, so a common
// name must be one of the SANs; catching it here gives a clearer error than the CA's.
Status CheckCommonName(const std::string& cn, const CsrNames& names) {
  if (cn.empty()) return Status::Ok();
  auto ip = NormalizeIpAddress(cn);
  bool found = ip.ok() ? std::count(names.ip_texts.begin(), names.ip_texts.end(), *ip) > 0
                       : std::count(names.dns.begin(), names.dns.end(), NormalizeDnsName(cn)) > 0;
  if (found) return Status::Ok();
  return Invalid("common name " + cn + " is not among the DNS names or IP addresses");
}

Status AddSubject(X509_NAME* name, const Subject& subject) {
  for (const SubjectField& field : SubjectFields()) {
    std::vector<std::string> single;
    const std::vector<std::string>* values = field.list ? &(subject.*field.list) : &single;
    if (!field.list && !(subject.*field.single).empty()) single.push_back(subject.*field.single);
    for (const std::string& value : *values) {
      if (X509_NAME_add_entry_by_NID(name, field.nid, MBSTRING_UTF8,
                                     reinterpret_cast<const unsigned char*>(value.data()),
                                     static_cast<int>(value.size()), -1, 0) != 1) {
        return OpenSslError(std::string("subject ") + field.short_name + " \"" + value + "\"",
                            ErrorCode::kInvalidArgument);
      }
    }
  }
  return Status::Ok();
}

// A dNSName, uniformResourceIdentifier or rfc822Name: an IA5String GeneralName.
Status PushIa5Name(GENERAL_NAMES* gens, int type, const std::string& text) {
  internal::GeneralNamePtr gen(GENERAL_NAME_new());
  ASN1_IA5STRING* ia5 = ASN1_IA5STRING_new();
  if (!gen || !ia5 || ASN1_STRING_set(ia5, text.data(), static_cast<int>(text.size())) != 1) {
    ASN1_IA5STRING_free(ia5);
    return OpenSslError("building subjectAltName");
  }
  GENERAL_NAME_set0_value(gen.get(), type, ia5);  // gen owns ia5 now
  if (sk_GENERAL_NAME_push(gens, gen.get()) == 0) return OpenSslError("building SANs");
  gen.release();  // the stack owns it
  return Status::Ok();
}

Status PushOtherName(GENERAL_NAMES* gens, const OtherNameSan& other) {
  ASN1_OBJECT* oid = OBJ_txt2obj(other.oid.c_str(), 1);  // numeric form only
  if (oid == nullptr) {
    internal::ClearOpenSslErrors();
    return Invalid("otherName: \"" + other.oid + "\" is not a dotted object identifier");
  }
  ASN1_UTF8STRING* utf8 = ASN1_UTF8STRING_new();
  ASN1_TYPE* value = ASN1_TYPE_new();
  internal::GeneralNamePtr gen(GENERAL_NAME_new());
  if (!utf8 || !value || !gen ||
      ASN1_STRING_set(utf8, other.utf8_value.data(), static_cast<int>(other.utf8_value.size())) !=
          1) {
    ASN1_OBJECT_free(oid);
    ASN1_UTF8STRING_free(utf8);
    ASN1_TYPE_free(value);
    return OpenSslError("building an otherName");
  }
  ASN1_TYPE_set(value, V_ASN1_UTF8STRING, utf8);  // value owns utf8
  if (GENERAL_NAME_set0_othername(gen.get(), oid, value) != 1) {
    ASN1_OBJECT_free(oid);
    ASN1_TYPE_free(value);
    return OpenSslError("building an otherName");
  }
  if (sk_GENERAL_NAME_push(gens, gen.get()) == 0) return OpenSslError("building SANs");
  gen.release();
  return Status::Ok();
}

Result<internal::GeneralNamesPtr> MakeGeneralNames(CsrNames& names) {
  internal::GeneralNamesPtr gens(sk_GENERAL_NAME_new_null());
  if (!gens) return OpenSslError("building subjectAltName");
  for (const std::string& dns : names.dns) RETURN_IF_ERROR(PushIa5Name(gens.get(), GEN_DNS, dns));
  for (auto& ip : names.ips) {
    internal::GeneralNamePtr gen(GENERAL_NAME_new());
    if (!gen) return OpenSslError("building subjectAltName");
    GENERAL_NAME_set0_value(gen.get(), GEN_IPADD, ip.release());
    if (sk_GENERAL_NAME_push(gens.get(), gen.get()) == 0) return OpenSslError("building SANs");
    gen.release();
  }
  for (const std::string& uri : names.uris) RETURN_IF_ERROR(PushIa5Name(gens.get(), GEN_URI, uri));
  for (const std::string& e : names.emails) RETURN_IF_ERROR(PushIa5Name(gens.get(), GEN_EMAIL, e));
  for (const OtherNameSan& o : names.other_names) RETURN_IF_ERROR(PushOtherName(gens.get(), o));
  return gens;
}

// cert-manager's usage names and OpenSSL's names for them (keyUsage bits, then
// extendedKeyUsage purposes; OIDs where OpenSSL has no name).
struct UsageName {
  std::string_view cert_manager;
  const char* openssl;
  bool extended;
};
constexpr UsageName kUsages[] = {
    {"signing", "digitalSignature", false},
    {"digital signature", "digitalSignature", false},
    {"content commitment", "nonRepudiation", false},
    {"key encipherment", "keyEncipherment", false},
    {"key agreement", "keyAgreement", false},
    {"data encipherment", "dataEncipherment", false},
    {"cert sign", "keyCertSign", false},
    {"crl sign", "cRLSign", false},
    {"encipher only", "encipherOnly", false},
    {"decipher only", "decipherOnly", false},
    {"any", "anyExtendedKeyUsage", true},
    {"server auth", "serverAuth", true},
    {"client auth", "clientAuth", true},
    {"code signing", "codeSigning", true},
    {"email protection", "emailProtection", true},
    {"s/mime", "emailProtection", true},
    {"ipsec end system", "ipsecEndSystem", true},
    {"ipsec tunnel", "ipsecTunnel", true},
    {"ipsec user", "ipsecUser", true},
    {"timestamping", "timeStamping", true},
    {"ocsp signing", "OCSPSigning", true},
    {"microsoft sgc", "1.3.6.1.4.1.311.10.3.3", true},
    {"netscape sgc", "2.16.840.1.113730.4.1", true},
};

// "critical,digitalSignature,keyEncipherment" and "serverAuth,clientAuth" for the usages.
Status UsageExtensionValues(const std::vector<std::string>& usages, std::string* key_usage,
                            std::string* extended) {
  for (const std::string& u : usages) {
    const UsageName* found = nullptr;
    for (const UsageName& n : kUsages) {
      if (n.cert_manager == u) found = &n;
    }
    if (found == nullptr) return Invalid("unknown key usage \"" + u + "\"");
    std::string& out = found->extended ? *extended : *key_usage;
    if (out.find(found->openssl) != std::string::npos) continue;
    if (!out.empty()) out += ",";
    out += found->openssl;
  }
  // RFC 5280 §4.2.1.3: keyUsage SHOULD be critical.
  if (!key_usage->empty()) *key_usage = "critical," + *key_usage;
  return Status::Ok();
}

Status PushConfExtension(STACK_OF(X509_EXTENSION) * exts, int nid, const std::string& value) {
  internal::X509ExtensionPtr ext(X509V3_EXT_conf_nid(nullptr, nullptr, nid, value.c_str()));
  if (!ext || sk_X509_EXTENSION_push(exts, ext.get()) == 0) {
    return OpenSslError("building the extension " + value, ErrorCode::kInvalidArgument);
  }
  ext.release();
  return Status::Ok();
}

Status AddExtensions(X509_REQ* req, CsrNames& names, bool critical,
                     const std::vector<std::string>& usages) {
  ASSIGN_OR_RETURN(internal::GeneralNamesPtr gens, MakeGeneralNames(names));
  internal::X509ExtensionPtr ext(
      X509V3_EXT_i2d(NID_subject_alt_name, critical ? 1 : 0, gens.get()));
  internal::X509ExtensionStackPtr exts(sk_X509_EXTENSION_new_null());
  if (!ext || !exts || sk_X509_EXTENSION_push(exts.get(), ext.get()) == 0) {
    return OpenSslError("building subjectAltName");
  }
  ext.release();  // the stack owns it
  std::string key_usage, extended;
  RETURN_IF_ERROR(UsageExtensionValues(usages, &key_usage, &extended));
  if (!key_usage.empty()) RETURN_IF_ERROR(PushConfExtension(exts.get(), NID_key_usage, key_usage));
  if (!extended.empty())
    RETURN_IF_ERROR(PushConfExtension(exts.get(), NID_ext_key_usage, extended));
  if (X509_REQ_add_extensions(req, exts.get()) != 1) return OpenSslError("adding extensions");
  return Status::Ok();
}

// RFC 4514: the string lists the most significant RDN last, so attributes are added in reverse.
Status AddLiteralSubject(X509_NAME* name, std::string_view literal) {
  if (!literal.empty() && literal.front() == '#') {
    return Invalid("literalSubject: hex-encoded (#...) values are not supported");
  }
  ASSIGN_OR_RETURN(std::vector<RawAttribute> attributes, SplitAttributes(literal));
  for (auto it = attributes.rbegin(); it != attributes.rend(); ++it) {
    const SubjectField* known = FindField(it->name);
    ASN1_OBJECT* raw =
        known != nullptr ? OBJ_nid2obj(known->nid) : OBJ_txt2obj(it->name.c_str(), 0);
    internal::ClearOpenSslErrors();
    if (raw == nullptr)
      return Invalid("literalSubject: unknown attribute type \"" + it->name + "\"");
    std::unique_ptr<ASN1_OBJECT, internal::OpenSslDeleter<ASN1_OBJECT_free>> obj(raw);
    if (X509_NAME_add_entry_by_OBJ(name, obj.get(), MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(it->value.data()),
                                   static_cast<int>(it->value.size()), -1, 0) != 1) {
      return OpenSslError("literalSubject " + it->name + "=" + it->value,
                          ErrorCode::kInvalidArgument);
    }
  }
  return Status::Ok();
}

}  // namespace

namespace internal {

Subject SubjectFromName(const X509_NAME* name) {
  Subject subject;
  for (int i = 0; i < X509_NAME_entry_count(name); ++i) {
    const X509_NAME_ENTRY* entry = X509_NAME_get_entry(name, i);
    int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(entry));
    const auto& fields = SubjectFields();
    auto field = std::find_if(fields.begin(), fields.end(),
                              [nid](const SubjectField& f) { return f.nid == nid; });
    if (field == fields.end()) continue;
    unsigned char* utf8 = nullptr;
    int len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(entry));
    if (len < 0) continue;
    OpenSslStringPtr owner(reinterpret_cast<char*>(utf8));
    std::string value(owner.get(), static_cast<size_t>(len));
    if (field->list != nullptr) {
      (subject.*field->list).push_back(std::move(value));
    } else if ((subject.*field->single).empty()) {
      subject.*field->single = std::move(value);
    }
  }
  ClearOpenSslErrors();
  return subject;
}

}  // namespace internal

bool Subject::empty() const {
  return common_name.empty() && organizations.empty() && organizational_units.empty() &&
         countries.empty() && provinces.empty() && localities.empty() && street_addresses.empty() &&
         postal_codes.empty() && serial_number.empty();
}

Result<Subject> ParseSubject(std::string_view text) {
  ASSIGN_OR_RETURN(std::vector<RawAttribute> attributes, SplitAttributes(text));
  Subject subject;
  for (RawAttribute& a : attributes) {
    const SubjectField* field = FindField(a.name);
    if (field == nullptr) {
      return Invalid("subject: unknown attribute \"" + a.name +
                     "\" (use CN, O, OU, C, ST, L, STREET, postalCode, serialNumber)");
    }
    RETURN_IF_ERROR(StoreAttribute(subject, *field, std::move(a.value)));
  }
  return subject;
}

std::string FormatSubject(const Subject& subject) {
  std::string out;
  auto add = [&](const char* name, const std::string& value) {
    if (!out.empty()) out.push_back(',');
    out.append(name).append(1, '=').append(EscapeValue(value));
  };
  // Most specific first, as RFC 4514 writes names.
  const auto& fields = SubjectFields();
  for (auto it = fields.rbegin(); it != fields.rend(); ++it) {
    if (it->list == nullptr) {
      if (!(subject.*it->single).empty()) add(it->short_name, subject.*it->single);
      continue;
    }
    for (const std::string& v : subject.*it->list) add(it->short_name, v);
  }
  return out;
}

std::string NormalizeDnsName(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  return AsciiLower(name);
}

Result<std::string> NormalizeIpAddress(std::string_view address) {
  ASSIGN_OR_RETURN(auto ip, ParseIp(address));
  return internal::IpBytesToText(ASN1_STRING_get0_data(ip.get()), ASN1_STRING_length(ip.get()));
}

Result<std::string> MakeCsrDer(const PrivateKey& key, const CsrRequest& request) {
  ASSIGN_OR_RETURN(CsrNames names, CollectNames(request));
  const bool literal = !request.literal_subject.empty();
  if (!literal) RETURN_IF_ERROR(CheckCommonName(request.subject.common_name, names));
  internal::X509ReqPtr req(X509_REQ_new());
  if (!req || X509_REQ_set_version(req.get(), 0) != 1) return OpenSslError("building the CSR");
  if (literal) {
    RETURN_IF_ERROR(
        AddLiteralSubject(X509_REQ_get_subject_name(req.get()), request.literal_subject));
  } else {
    RETURN_IF_ERROR(AddSubject(X509_REQ_get_subject_name(req.get()), request.subject));
  }
  if (X509_REQ_set_pubkey(req.get(), key.get()) != 1) return OpenSslError("building the CSR");
  // RFC 5280 §4.2.1.6: with an empty subject the SAN extension must be critical.
  const bool empty_subject = X509_NAME_entry_count(X509_REQ_get_subject_name(req.get())) == 0;
  RETURN_IF_ERROR(AddExtensions(req.get(), names, empty_subject, request.usages));
  if (X509_REQ_sign(req.get(), key.get(), EVP_sha256()) <= 0) {
    return OpenSslError("signing the CSR");
  }
  unsigned char* der = nullptr;
  int len = i2d_X509_REQ(req.get(), &der);
  if (len <= 0) return OpenSslError("encoding the CSR");
  internal::OpenSslStringPtr owner(reinterpret_cast<char*>(der));
  return std::string(owner.get(), static_cast<size_t>(len));
}

}  // namespace certsmith::acme
