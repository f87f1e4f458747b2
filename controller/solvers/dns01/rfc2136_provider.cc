#include "solvers/dns01/rfc2136_provider.h"

namespace certsmith::solvers::dns01 {
namespace {

// What an rcode and TSIG error mean to the person who configured the solver (RFC 2136 §2.2,
// RFC 8945 §5.2).
std::string Meaning(int rcode, int tsig_error, const Rfc2136Config& config,
                    const std::string& zone) {
  const std::string key = config.tsig ? "TSIG key " + config.tsig->Describe() : "no TSIG key";
  switch (tsig_error) {
    case kTsigBadSig:
      return "the server rejected the signature: the secret of " + key +
             " is not the one the server has for it";
    case kTsigBadKey:
      return "the server does not know " + key + " (check tsigKeyName and tsigAlgorithm)";
    case kTsigBadTime:
      return "the controller's clock and the server's differ by more than the TSIG fudge";
    default:
      break;
  }
  switch (rcode) {
    case kRefused:
      return "the server's update policy does not allow " + key + " to change zone " + zone;
    case kNotAuth:
      return "the server is not authoritative for zone " + zone;
    case kNotZone:
      return "the record is not in zone " + zone;
    case kNotImp:
      return "the server does not take dynamic updates";
    case kServFail:
      return "the server failed to apply the update";
    default:
      return "";
  }
}

ErrorCode CodeFor(int rcode, int tsig_error) {
  if (tsig_error == kTsigBadSig || tsig_error == kTsigBadKey || rcode == kRefused) {
    return ErrorCode::kPermissionDenied;
  }
  if (rcode == kServFail) return ErrorCode::kUnavailable;
  return ErrorCode::kFailedPrecondition;
}

}  // namespace

std::string Rfc2136Provider::Describe() const {
  return "rfc2136 at " + config_.server.ToString() + " (" + TransportName(config_.transport) +
         ", " + (config_.tsig ? "TSIG key " + config_.tsig->Describe() : "unsigned") + ")";
}

Status Rfc2136Provider::Present(const ChallengeRecord& record) { return Send(record, false); }

Status Rfc2136Provider::CleanUp(const ChallengeRecord& record) { return Send(record, true); }

Status Rfc2136Provider::Send(const ChallengeRecord& record, bool remove) {
  UpdateRequest update;
  update.zone = Fqdn(record.zone);
  update.tsig = config_.tsig;
  Record txt{Fqdn(record.fqdn), RrType::kTxt, config_.ttl, record.value};
  (remove ? update.remove : update.add).push_back(txt);
  const std::string what = std::string("RFC 2136 update at ") + config_.server.ToString() + " (" +
                           TransportName(config_.transport) + ") " +
                           (remove ? "deleting" : "adding") + " TXT " + txt.name + " in zone " +
                           update.zone;
  auto answer = dns_.Update(config_.server, update, config_.transport);
  if (!answer.ok()) return answer.status().WithContext(what);
  if (answer->rcode == kNoError && answer->tsig_error == 0) return Status::Ok();
  std::string said = "the server answered " + RcodeName(answer->rcode);
  if (answer->tsig_error != 0) said += " with TSIG error " + TsigErrorName(answer->tsig_error);
  const std::string meaning = Meaning(answer->rcode, answer->tsig_error, config_, update.zone);
  if (!meaning.empty()) said += " (" + meaning + ")";
  return MakeError(CodeFor(answer->rcode, answer->tsig_error), what + ": " + said);
}

}  // namespace certsmith::solvers::dns01
