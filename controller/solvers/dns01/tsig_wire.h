// TSIG on ldns packets (RFC 8945 §4.3 signing a request, §5.3 checking the answer). ldns 1.8.3
// signs with hmac-md5, -sha1, -sha256 and -sha512 only (its digest table misspells hmac-sha384
// as "hmac-shac384." and has no hmac-sha224), so certsmith computes the MAC itself with OpenSSL
// and leaves every byte of DNS wire format to ldns (names, records, the TSIG record itself).
// Internal to certsmith::dns01; the unit tests include it.
#pragma once

#include <ldns/ldns.h>

#include <cstdint>
#include <string>

#include "certsmith/status.h"
#include "solvers/dns01/tsig.h"

namespace certsmith::solvers::dns01::internal {

// Adds a TSIG record signed at time_signed (seconds since the epoch) to pkt, which must carry
// none yet; pkt's ID is the TSIG's original ID. Returns the request's MAC, which the answer's
// MAC covers (§5.3).
Result<std::string> TsigSign(ldns_pkt* pkt, const TsigKey& key, uint64_t time_signed);

// What the TSIG record of an answer says, once checked.
struct TsigAnswer {
  bool signed_ = false;  // the answer carries a TSIG record
  int error = 0;         // its error field (BADSIG, BADKEY, BADTIME, ...)
  uint64_t time_signed = 0;
};

// Checks the TSIG record of wire, the answer exactly as received, to a request signed with key
// whose MAC was request_mac. An answer with no TSIG record, or one that reports BADSIG or BADKEY
// (those carry no MAC, §5.3.2), is returned unchecked for the caller to judge by its rcode.
// A MAC that does not verify, another key or algorithm, or a time outside the fudge is an error.
Result<TsigAnswer> TsigVerify(const uint8_t* wire, size_t size, const TsigKey& key,
                              const std::string& request_mac, uint64_t now);

}  // namespace certsmith::solvers::dns01::internal
