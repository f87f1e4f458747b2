#include "solvers/dns01/tsig.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <strings.h>

#include "certsmith/base64.h"
#include "solvers/dns01/dns_client.h"
#include "solvers/dns01/ldns_ptr.h"
#include "solvers/dns01/tsig_wire.h"

namespace certsmith::solvers::dns01 {
namespace {

struct AlgorithmInfo {
  TsigAlgorithm algorithm;
  const char* api_name;
  const char* dns_name;
  const char* digest;  // OpenSSL's name
  size_t mac_size;
};

// RFC 8945 §6 (and RFC 4635 for the SHA-2 family).
constexpr AlgorithmInfo kAlgorithms[] = {
    {TsigAlgorithm::kHmacMd5, "HMACMD5", "hmac-md5.sig-alg.reg.int.", "MD5", 16},
    {TsigAlgorithm::kHmacSha1, "HMACSHA1", "hmac-sha1.", "SHA1", 20},
    {TsigAlgorithm::kHmacSha224, "HMACSHA224", "hmac-sha224.", "SHA224", 28},
    {TsigAlgorithm::kHmacSha256, "HMACSHA256", "hmac-sha256.", "SHA256", 32},
    {TsigAlgorithm::kHmacSha384, "HMACSHA384", "hmac-sha384.", "SHA384", 48},
    {TsigAlgorithm::kHmacSha512, "HMACSHA512", "hmac-sha512.", "SHA512", 64},
};

const AlgorithmInfo& Info(TsigAlgorithm a) {
  for (const AlgorithmInfo& i : kAlgorithms) {
    if (i.algorithm == a) return i;
  }
  return kAlgorithms[3];
}

}  // namespace

Result<TsigAlgorithm> ParseTsigAlgorithm(std::string_view api_name) {
  if (api_name.empty()) return kDefaultTsigAlgorithm;
  std::string name(api_name);
  // BIND's key clauses say "hmac-sha256" and "hmac-md5" (for hmac-md5.sig-alg.reg.int.).
  auto short_name = [](std::string n) {
    while (!n.empty() && n.back() == '.') n.pop_back();
    const std::string md5_suffix = ".sig-alg.reg.int";
    if (n.size() > md5_suffix.size() &&
        strcasecmp(n.c_str() + n.size() - md5_suffix.size(), md5_suffix.c_str()) == 0) {
      n.resize(n.size() - md5_suffix.size());
    }
    return n;
  };
  for (const AlgorithmInfo& i : kAlgorithms) {
    if (strcasecmp(name.c_str(), i.api_name) == 0 ||
        strcasecmp(short_name(name).c_str(), short_name(i.dns_name).c_str()) == 0) {
      return i.algorithm;
    }
  }
  return MakeError(ErrorCode::kInvalidArgument,
                   "unknown TSIG algorithm \"" + name +
                       "\" (HMACMD5, HMACSHA1, HMACSHA224, HMACSHA256, HMACSHA384 or HMACSHA512)");
}

const char* TsigAlgorithmApiName(TsigAlgorithm a) { return Info(a).api_name; }
const char* TsigAlgorithmDnsName(TsigAlgorithm a) { return Info(a).dns_name; }
size_t TsigMacSize(TsigAlgorithm a) { return Info(a).mac_size; }

std::string TsigErrorName(int error) {
  switch (error) {
    case kTsigBadSig:
      return "BADSIG";
    case kTsigBadKey:
      return "BADKEY";
    case kTsigBadTime:
      return "BADTIME";
    case 19:
      return "BADMODE";
    case 20:
      return "BADNAME";
    case 21:
      return "BADALG";
    case kTsigBadTrunc:
      return "BADTRUNC";
    default:
      return "TSIG error " + std::to_string(error);
  }
}

std::string TsigKey::Describe() const {
  std::string alg = TsigAlgorithmDnsName(algorithm);
  if (!alg.empty() && alg.back() == '.') alg.pop_back();
  return name + " (" + alg + ")";
}

Result<TsigKey> MakeTsigKey(std::string_view name, TsigAlgorithm algorithm,
                            std::string_view base64_secret) {
  if (name.empty()) return MakeError(ErrorCode::kInvalidArgument, "the TSIG key name is empty");
  TsigKey key;
  key.name = Fqdn(name);
  key.algorithm = algorithm;
  auto secret = Base64DecodeLenient(base64_secret);
  if (!secret.ok()) {
    // The decoder's message names a position, never the text.
    return MakeError(ErrorCode::kInvalidArgument,
                     "the secret of TSIG key " + key.Describe() +
                         " is not base64: " + secret.status().message());
  }
  if (secret->empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "the secret of TSIG key " + key.Describe() + " is empty");
  }
  key.secret = std::move(secret).value();
  return key;
}

Result<std::string> TsigMac(TsigAlgorithm a, std::string_view secret, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  size_t out_len = 0;
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, Info(a).digest, nullptr, secret.data(), secret.size(),
                reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, sizeof(out),
                &out_len) == nullptr) {
    return MakeError(ErrorCode::kInternal,
                     std::string("computing HMAC-") + Info(a).digest + " failed (OpenSSL)");
  }
  return std::string(reinterpret_cast<char*>(out), out_len);
}

namespace internal {
namespace {

// Appends a domain name in canonical (lower-case, uncompressed) wire format (RFC 8945 §4.3.3).
void AppendCanonicalName(ldns_buffer* out, const ldns_rdf* name) {
  RdfPtr copy(ldns_rdf_clone(name));
  ldns_dname2canonical(copy.get());
  (void)ldns_rdf2buffer_wire(out, copy.get());
}

void AppendUint48(ldns_buffer* out, uint64_t v) {
  ldns_buffer_write_u16(out, static_cast<uint16_t>((v >> 32) & 0xffff));
  ldns_buffer_write_u32(out, static_cast<uint32_t>(v & 0xffffffff));
}

uint64_t ReadUint48(const ldns_rdf* rdf) {
  if (ldns_rdf_size(rdf) != 6) return 0;
  const uint8_t* d = ldns_rdf_data(rdf);
  uint64_t v = 0;
  for (int i = 0; i < 6; ++i) v = (v << 8) | d[i];
  return v;
}

std::string BufferBytes(ldns_buffer* b) {
  return std::string(reinterpret_cast<const char*>(ldns_buffer_begin(b)), ldns_buffer_position(b));
}

}  // namespace

Result<std::string> TsigSign(ldns_pkt* pkt, const TsigKey& key, uint64_t time_signed) {
  if (ldns_pkt_tsig(pkt) != nullptr) {
    return MakeError(ErrorCode::kInternal, "the message is signed already");
  }
  RdfPtr key_name(ldns_dname_new_frm_str(key.name.c_str()));
  RdfPtr algorithm(ldns_dname_new_frm_str(TsigAlgorithmDnsName(key.algorithm)));
  if (!key_name || !algorithm) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "\"" + key.name + "\" is not a valid TSIG key name");
  }
  uint8_t* raw = nullptr;
  size_t raw_size = 0;
  if (ldns_pkt2wire(&raw, pkt, &raw_size) != LDNS_STATUS_OK) {
    return MakeError(ErrorCode::kInternal, "the DNS message could not be written");
  }
  BytesPtr wire(raw);
  // §4.3.1-§4.3.3: the message as sent (without its TSIG record), then the TSIG variables.
  BufferPtr data(ldns_buffer_new(raw_size + 128));
  ldns_buffer_write(data.get(), wire.get(), raw_size);
  AppendCanonicalName(data.get(), key_name.get());
  ldns_buffer_write_u16(data.get(), LDNS_RR_CLASS_ANY);
  ldns_buffer_write_u32(data.get(), 0);  // TTL
  AppendCanonicalName(data.get(), algorithm.get());
  AppendUint48(data.get(), time_signed);
  ldns_buffer_write_u16(data.get(), key.fudge);
  ldns_buffer_write_u16(data.get(), 0);  // error
  ldns_buffer_write_u16(data.get(), 0);  // other len
  ASSIGN_OR_RETURN(std::string mac, TsigMac(key.algorithm, key.secret, BufferBytes(data.get())));

  uint8_t time_bytes[6];
  for (int i = 0; i < 6; ++i) time_bytes[i] = static_cast<uint8_t>(time_signed >> (8 * (5 - i)));
  RrPtr rr(ldns_rr_new());
  ldns_rr_set_owner(rr.get(), key_name.release());
  ldns_rr_set_class(rr.get(), LDNS_RR_CLASS_ANY);
  ldns_rr_set_type(rr.get(), LDNS_RR_TYPE_TSIG);
  ldns_rr_set_ttl(rr.get(), 0);
  // The record's RDATA, §4.2: algorithm, time signed, fudge, MAC, original ID, error, other.
  ldns_rr_push_rdf(rr.get(), algorithm.release());
  ldns_rr_push_rdf(rr.get(), ldns_rdf_new_frm_data(LDNS_RDF_TYPE_TSIGTIME, 6, time_bytes));
  ldns_rr_push_rdf(rr.get(), ldns_native2rdf_int16(LDNS_RDF_TYPE_INT16, key.fudge));
  ldns_rr_push_rdf(rr.get(),
                   ldns_native2rdf_int16_data(mac.size(), reinterpret_cast<uint8_t*>(mac.data())));
  ldns_rr_push_rdf(rr.get(), ldns_native2rdf_int16(LDNS_RDF_TYPE_INT16, ldns_pkt_id(pkt)));
  ldns_rr_push_rdf(rr.get(), ldns_native2rdf_int16(LDNS_RDF_TYPE_INT16, 0));
  ldns_rr_push_rdf(rr.get(), ldns_native2rdf_int16_data(0, nullptr));
  ldns_pkt_set_tsig(pkt, rr.release());
  return mac;
}

Result<TsigAnswer> TsigVerify(const uint8_t* wire, size_t size, const TsigKey& key,
                              const std::string& request_mac, uint64_t now) {
  ldns_pkt* raw = nullptr;
  if (ldns_wire2pkt(&raw, wire, size) != LDNS_STATUS_OK) {
    return MakeError(ErrorCode::kProtocol, "the answer is not a DNS message");
  }
  PktPtr pkt(raw);
  TsigAnswer answer;
  const ldns_rr* tsig = ldns_pkt_tsig(pkt.get());
  if (tsig == nullptr) return answer;
  answer.signed_ = true;
  if (ldns_rr_rd_count(tsig) < 7) {
    return MakeError(ErrorCode::kProtocol, "the answer's TSIG record is malformed");
  }
  const ldns_rdf* algorithm = ldns_rr_rdf(tsig, 0);
  const ldns_rdf* time = ldns_rr_rdf(tsig, 1);
  const ldns_rdf* fudge = ldns_rr_rdf(tsig, 2);
  const ldns_rdf* mac = ldns_rr_rdf(tsig, 3);
  const ldns_rdf* original_id = ldns_rr_rdf(tsig, 4);
  const ldns_rdf* error = ldns_rr_rdf(tsig, 5);
  const ldns_rdf* other = ldns_rr_rdf(tsig, 6);
  answer.error = ldns_rdf2native_int16(error);
  answer.time_signed = ReadUint48(time);
  // §5.3.2: BADSIG and BADKEY answers are unsigned (the server could not use the key).
  if (answer.error == kTsigBadSig || answer.error == kTsigBadKey) return answer;

  RdfPtr key_name(ldns_dname_new_frm_str(key.name.c_str()));
  RdfPtr our_algorithm(ldns_dname_new_frm_str(TsigAlgorithmDnsName(key.algorithm)));
  if (!key_name || !our_algorithm || ldns_dname_compare(ldns_rr_owner(tsig), key_name.get()) != 0 ||
      ldns_dname_compare(algorithm, our_algorithm.get()) != 0) {
    return MakeError(ErrorCode::kProtocol,
                     "the answer is signed with another TSIG key than " + key.Describe());
  }
  // The answer without its TSIG record: every record before it, as received (§4.3.2).
  const uint16_t counts[4] = {LDNS_QDCOUNT(wire), LDNS_ANCOUNT(wire), LDNS_NSCOUNT(wire),
                              static_cast<uint16_t>(LDNS_ARCOUNT(wire) - 1)};
  const ldns_pkt_section sections[4] = {LDNS_SECTION_QUESTION, LDNS_SECTION_ANSWER,
                                        LDNS_SECTION_AUTHORITY, LDNS_SECTION_ADDITIONAL};
  size_t pos = LDNS_HEADER_SIZE;
  for (int s = 0; s < 4; ++s) {
    for (uint16_t i = 0; i < counts[s]; ++i) {
      ldns_rr* rr = nullptr;
      if (ldns_wire2rr(&rr, wire, size, &pos, sections[s]) != LDNS_STATUS_OK) {
        return MakeError(ErrorCode::kProtocol, "the answer is not a DNS message");
      }
      RrPtr owned(rr);
    }
  }
  std::string message(reinterpret_cast<const char*>(wire), pos);
  ldns_write_uint16(message.data(), ldns_rdf2native_int16(original_id));
  ldns_write_uint16(message.data() + LDNS_ARCOUNT_OFF, counts[3]);

  BufferPtr data(ldns_buffer_new(request_mac.size() + pos + 128));
  ldns_buffer_write_u16(data.get(), static_cast<uint16_t>(request_mac.size()));
  ldns_buffer_write(data.get(), request_mac.data(), request_mac.size());
  ldns_buffer_write(data.get(), message.data(), message.size());
  AppendCanonicalName(data.get(), ldns_rr_owner(tsig));
  ldns_buffer_write_u16(data.get(), LDNS_RR_CLASS_ANY);
  ldns_buffer_write_u32(data.get(), 0);
  AppendCanonicalName(data.get(), algorithm);
  ldns_buffer_write(data.get(), ldns_rdf_data(time), ldns_rdf_size(time));
  ldns_buffer_write(data.get(), ldns_rdf_data(fudge), ldns_rdf_size(fudge));
  ldns_buffer_write(data.get(), ldns_rdf_data(error), ldns_rdf_size(error));
  ldns_buffer_write(data.get(), ldns_rdf_data(other), ldns_rdf_size(other));
  ASSIGN_OR_RETURN(std::string expected,
                   TsigMac(key.algorithm, key.secret, BufferBytes(data.get())));
  const size_t mac_size = ldns_rdf_size(mac) >= 2 ? ldns_rdf_size(mac) - 2 : 0;
  if (mac_size != expected.size() ||
      CRYPTO_memcmp(ldns_rdf_data(mac) + 2, expected.data(), expected.size()) != 0) {
    return MakeError(ErrorCode::kProtocol,
                     "the answer's TSIG signature does not verify with key " + key.Describe());
  }
  const uint64_t allowed = ldns_rdf2native_int16(fudge);
  const uint64_t skew =
      now > answer.time_signed ? now - answer.time_signed : answer.time_signed - now;
  if (skew > allowed) {
    return MakeError(ErrorCode::kProtocol, "the answer was signed " + std::to_string(skew) +
                                               " s away from this clock (fudge " +
                                               std::to_string(allowed) + " s): check the clocks");
  }
  return answer;
}

}  // namespace internal
}  // namespace certsmith::solvers::dns01
