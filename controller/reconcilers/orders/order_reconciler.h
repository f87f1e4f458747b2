// Order: drives one ACME order (RFC 8555 §7.4) for one revision of a Certificate
// (ARCHITECTURE.md "Flow of one certificate", step 3). newOrder once (the URL is stored at once
// and never re-ordered while it exists), one Challenge per pending authorization (already-valid
// ones, e.g. Sectigo's pre-validated domains, need none), finalize with the CSR when ready, poll
// `processing` at next_poll through a delayed requeue (never holding a worker), then download
// the preferred chain into status.certificate. A terminal CA answer sets state invalid with the
// CA's problem (type, detail, subproblems); retryable errors go back to the queue's backoff.
// An Order removed before it ended (its Certificate deleted, or replaced by a new Order) has its
// pending authorizations deactivated at the CA (RFC 8555 §7.5.2): best effort, once, within a
// time budget, after the object is gone, so deletion never waits for the CA.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "acme/client.h"
#include "api/issuer.h"
#include "api/order.h"
#include "reconcilers/context.h"

namespace certsmith::reconcilers {

class OrderReconciler {
 public:
  explicit OrderReconciler(Context& ctx) : ctx_(ctx) {}
  SyncResult Sync(const std::string& key);
  // The last state of an Order the API server removed (the informer's delete event): its
  // authorizations that may still be pending are deactivated by the next Sync of its key.
  void Deleted(const Json& order);
  size_t AbandonedForTest() const;

 private:
  SyncResult Create(const Json& obj, api::Order order, acme::AcmeClient& acme,
                    const api::Issuer& issuer);
  SyncResult Drive(const Json& obj, api::Order order, acme::AcmeClient& acme,
                   const api::Issuer& issuer);
  SyncResult Authorizations(const Json& obj, api::Order order, const acme::Order& remote,
                            acme::AcmeClient& acme, const api::Issuer& issuer);
  // A terminal state with the CA's words and a Warning event.
  // The order is valid: downloads the (preferred) chain into status.certificate.
  SyncResult Download(const Json& obj, api::Order order, const acme::Order& remote,
                      acme::AcmeClient& acme, const api::Issuer& issuer);
  SyncResult Terminal(const Json& obj, api::Order order, api::OrderState state,
                      const std::string& reason);
  // Terminal when the CA's problem cannot go away by itself, else back to the queue.
  SyncResult AcmeError(const Json& obj, api::Order order, const Status& error,
                       const std::string& what);
  SyncResult Write(const Json& obj, const api::Order& order, SyncResult then);
  // Deactivates the still-pending authorizations of a removed Order; never an error.
  SyncResult DeactivateAbandoned(const std::string& key);

  struct Abandoned {
    api::IssuerRef issuer_ref;
    std::string ns;
    std::vector<std::string> authorizations;
  };

  Context& ctx_;
  mutable std::mutex mu_;
  std::map<std::string, Abandoned> abandoned_;
};

}  // namespace certsmith::reconcilers
