#include "certificates/ari_schedule.h"

#include <algorithm>
#include <mutex>
#include <random>

#include "acme/renewal_info.h"
#include "certificates/secret_facts.h"
#include "certsmith/log.h"
#include "kube/time_format.h"
#include "reconcilers/util.h"

namespace certsmith::reconcilers {
namespace {

// When the CA cannot be asked (network, 5xx, account not registered yet), ask again this soon.
constexpr auto kAriRetry = std::chrono::minutes(5);

double DefaultRandom() {
  static std::mutex mu;
  static std::mt19937_64 gen{std::random_device{}()};
  std::lock_guard<std::mutex> lock(mu);
  return std::uniform_real_distribution<double>(0.0, 1.0)(gen);
}

// The issuer's status recorded that the CA's directory has no renewalInfo (when its account was
// registered or found): a Certificate with no window yet does not ask (a restart over thousands
// of them asks the CA nothing). One that has a window still asks when it is due: the CA gave it.
bool IssuerOffersNoRenewalInfo(Context& ctx, const api::Certificate& cert) {
  auto issuer = GetIssuer(ctx, cert.spec.issuer_ref, cert.metadata.namespace_);
  return issuer.ok() && issuer->status.acme.renewal_info == api::kRenewalInfoNotOffered;
}

}  // namespace

Clock::TimePoint PointInWindow(Clock::TimePoint start, Clock::TimePoint end, double unit_random) {
  if (end <= start) return std::chrono::floor<std::chrono::seconds>(start);
  const double fraction = std::clamp(unit_random, 0.0, 1.0);
  const auto span = std::chrono::duration_cast<std::chrono::seconds>(end - start);
  auto offset =
      std::chrono::seconds(static_cast<int64_t>(fraction * static_cast<double>(span.count())));
  if (offset >= span && span.count() > 0) offset = span - std::chrono::seconds(1);
  return std::chrono::floor<std::chrono::seconds>(start) + offset;
}

void ApplyRenewalInfo(Context& ctx, const api::Certificate& cert, const Json* secret,
                      api::CertificateStatus* status, IssuanceCheck* check) {
  if (!check->current_valid) return;
  const auto now = ctx.clock->Now();
  // The leaf's ID as CheckIssuance decoded it (no second decoding of the chain).
  const std::string cert_id = check->info ? check->info->ari_cert_id : "";
  if (cert_id.empty()) {
    status->renewal_info.reset();
    return;
  }
  std::optional<api::CertificateStatus::RenewalInfo> known = status->renewal_info;
  if (known && known->certificate_id != cert_id) known.reset();
  const bool due = !known || !known->next_check_time || now >= *known->next_check_time;
  if (due && !known && IssuerOffersNoRenewalInfo(ctx, cert)) {
    // The 2/3 rule, as below when the CA answers that it has no renewalInfo, without asking.
    status->renewal_info.reset();
    return;
  }
  if (due) {
    auto client = AcmeClientFor(ctx, cert.spec.issuer_ref, cert.metadata.namespace_);
    Result<acme::RenewalInfo> info =
        client.ok() ? (*client)->GetRenewalInfo(SecretData(secret, "tls.crt").value_or(""))
                    : Result<acme::RenewalInfo>(client.status());
    if (info.ok()) {
      api::CertificateStatus::RenewalInfo fresh;
      fresh.certificate_id = cert_id;
      fresh.window_start = std::chrono::floor<std::chrono::seconds>(info->window_start);
      fresh.window_end = std::chrono::floor<std::chrono::seconds>(info->window_end);
      fresh.explanation_url = info->explanation_url;
      fresh.next_check_time = std::chrono::floor<std::chrono::seconds>(info->next_poll);
      const bool moved = !known || known->window_start != fresh.window_start ||
                         known->window_end != fresh.window_end;
      if (moved || !status->renewal_time || *status->renewal_time < fresh.window_start ||
          *status->renewal_time >= fresh.window_end) {
        const double r = ctx.random ? ctx.random() : DefaultRandom();
        const auto before = status->renewal_time;
        status->renewal_time = PointInWindow(fresh.window_start, fresh.window_end, r);
        check->ari_moved = before != status->renewal_time;
      }
      known = fresh;
    } else if (client.ok() && info.status().code() == ErrorCode::kFailedPrecondition) {
      status->renewal_info.reset();  // the CA offers no renewalInfo: the 2/3 rule
      return;
    } else {
      log::Warn("renewal information unavailable",
                {{"certificate", cert.metadata.namespace_ + "/" + cert.metadata.name},
                 {"error", ErrorText(info.status())}});
      if (!known) {
        // Not known yet (account not registered, CA unreachable): the 2/3 rule for now.
        check->recheck_at = now + kAriRetry;
        return;
      }
      known->next_check_time = std::chrono::floor<std::chrono::seconds>(now + kAriRetry);
    }
  }
  status->renewal_info = known;
  if (!status->renewal_time) {
    status->renewal_time = PointInWindow(known->window_start, known->window_end,
                                         ctx.random ? ctx.random() : DefaultRandom());
  }
  check->from_ari = true;
  check->renewal_time = status->renewal_time;
  check->recheck_at = known->next_check_time;
  if (now >= *check->renewal_time) {
    check->needed = true;
    check->reason = "Renewing";
    check->message =
        "Renewing certificate as the CA's renewal window (ACME renewal information) "
        "has come: renewal was scheduled at " +
        kube::FormatTime(*check->renewal_time) +
        (known->explanation_url.empty() ? "" : " (" + known->explanation_url + ")");
    check->replaces = known->certificate_id;
  } else {
    check->needed = false;
    check->reason.clear();
    check->message.clear();
  }
}

}  // namespace certsmith::reconcilers
