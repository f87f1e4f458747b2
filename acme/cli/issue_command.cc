// `certsmith acme issue`: one certificate, start to finish (RFC 8555 §7.4): account, order,
// authorizations (skipping valid ones, as with Sectigo's pre-validated domains), challenges,
// finalize with the CSR, download (preferred chain), files.
#include <cstdio>
#include <future>
#include <vector>

#include "acme/certificate.h"
#include "acme/csr.h"
#include "certsmith/base64.h"
#include "cli/atomic_file.h"
#include "cli/challenge_solver.h"
#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/key_generation.h"
#include "cli/options.h"
#include "cli/output_files.h"
#include "cli/session.h"
#include "cli/waiter.h"

namespace certsmith::cli {

namespace {

constexpr char kSynopsis[] =
    "usage: certsmith acme issue --server URL --account-key FILE -d NAME [-d NAME ...]\n"
    "           (--http01-listen HOST:PORT | --http01-webroot DIR | --dns01-hook CMD)\n"
    "           --out DIR [--key-type TYPE] [--subject DN] [--preferred-chain ISSUER-CN]\n"
    "           [--email ADDR --eab-kid KID (--eab-hmac-key-file FILE | --eab-hmac-key KEY)]\n"
    "           [--ca-bundle FILE] [--timeout DURATION] [--max-wait DURATION] [--verbose]\n"
    "\n"
    "Obtains a certificate and writes privkey.pem (0600), cert.pem, chain.pem and fullchain.pem\n"
    "to --out. Registers the account first when the key has none (EAB from the flags, a file or\n"
    "CERTSMITH_EAB_HMAC_KEY). Authorizations the CA already holds as valid need no challenge.\n"
    "The new private key is written to privkey.pem.pending before finalize and moved to\n"
    "privkey.pem with the certificate.\n"
    "A CA's rate limit (HTTP 429) is waited out when its Retry-After is at most --max-wait\n"
    "(default 60s), with a line on stderr; a longer one ends the command.\n"
    "--dns01-hook CMD runs `CMD present <record-name> <txt-value>` and, always, `CMD cleanup\n"
    "<record-name> <txt-value>`, with CERTSMITH_DOMAIN, CERTSMITH_RECORD_NAME and\n"
    "CERTSMITH_TXT_VALUE set.\n";

std::string PemOf(std::string_view der, const char* label) {
  std::string b64 = Base64Encode(der);
  std::string out = std::string("-----BEGIN ") + label + "-----\n";
  for (size_t i = 0; i < b64.size(); i += 64) out += b64.substr(i, 64) + "\n";
  return out + "-----END " + label + "-----\n";
}

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

// A challenge this run presented, to be cleaned up on every path.
struct Presented {
  acme::Identifier id;
  acme::Challenge challenge;
  std::string key_authorization;
};

class Issuance {
 public:
  Issuance(const IssueOptions& options, Session& session, ChallengeSolver& solver,
           const Reporter& reporter)
      : options_(options),
        client_(*session.client),
        solver_(solver),
        reporter_(reporter),
        waiter_(options.server.timeout),
        limits_(options.server.max_wait) {}

  ~Issuance() { CleanUpAll(); }

  Status Run(std::future<Result<acme::PrivateKey>> key_future) {
    ASSIGN_OR_RETURN(acme::Account account,
                     FindOrRegisterAccount(client_, options_.account, reporter_, limits_));
    ASSIGN_OR_RETURN(acme::Order order, CreateOrder());
    RETURN_IF_ERROR(Authorize(order));
    CleanUpAll();
    ASSIGN_OR_RETURN(order, WaitOrder(order, "ready"));
    if (order.status != acme::OrderStatus::kReady && order.status != acme::OrderStatus::kValid) {
      return OrderFailed(order);
    }
    ASSIGN_OR_RETURN(acme::PrivateKey key, key_future.get());
    CertificateFiles files = FilesIn(options_.out_dir);
    RETURN_IF_ERROR(MakeDirectories(options_.out_dir, 0755));
    RETURN_IF_ERROR(WritePendingKey(files, key));
    reporter_.Step("private key (" + std::string(acme::KeyTypeName(key.type())) + ") written to " +
                   files.pending_key);
    if (order.status == acme::OrderStatus::kReady) {
      ASSIGN_OR_RETURN(order, FinalizeOrder(order, key));
    }
    reporter_.Step("certificate " + order.certificate);
    ASSIGN_OR_RETURN(acme::CertificateChain chain, limits_.Call("the certificate download", [&] {
      return client_.DownloadPreferredChain(order.certificate, options_.preferred_chain);
    }));
    RETURN_IF_ERROR(WriteIssuedCertificate(files, key, chain.pem));
    reporter_.Step("wrote " + files.fullchain + " and " + files.privkey);
    PrintSummary(files, chain);
    return Status::Ok();
  }

 private:
  Result<acme::Order> CreateOrder() {
    acme::NewOrderRequest request;
    for (const std::string& name : options_.names) {
      ASSIGN_OR_RETURN(acme::Identifier id, acme::IdentifierFor(name));
      request.identifiers.push_back(std::move(id));
    }
    ASSIGN_OR_RETURN(acme::Order order,
                     limits_.Call("the new order", [&] { return client_.NewOrder(request); }));
    reporter_.Step("order " + order.url + " (" + acme::ToString(order.status) + ", " +
                   std::to_string(order.authorizations.size()) + " authorizations)");
    return order;
  }

  // §7.5: fetch every authorization, present and answer the pending ones together, then wait
  // for all of them, so n names cost one validation round, not n.
  Status Authorize(const acme::Order& order) {
    std::vector<std::string> waiting;
    for (const std::string& url : order.authorizations) {
      ASSIGN_OR_RETURN(acme::Authorization authz, limits_.Call("an authorization", [&] {
        return client_.GetAuthorization(url, 0);
      }));
      std::string who = authz.identifier.ToString();
      if (authz.status == acme::AuthorizationStatus::kValid) {
        reporter_.Step("authorization " + who + ": already valid, no challenge needed");
        continue;
      }
      if (authz.status != acme::AuthorizationStatus::kPending) {
        return Status(ErrorCode::kFailedPrecondition,
                      "authorization for " + who + " is " + acme::ToString(authz.status));
      }
      RETURN_IF_ERROR(PresentAndRespond(authz));
      waiting.push_back(url);
    }
    for (const std::string& url : waiting) {
      ASSIGN_OR_RETURN(acme::Authorization authz, WaitAuthorization(url));
      if (authz.status != acme::AuthorizationStatus::kValid) return AuthorizationFailed(authz);
      reporter_.Step("authorization " + authz.identifier.ToString() + ": valid");
    }
    return Status::Ok();
  }

  Status PresentAndRespond(const acme::Authorization& authz) {
    std::string type = solver_.ChallengeType();
    const acme::Challenge* challenge = authz.FindChallenge(type);
    if (challenge == nullptr) {
      std::string offered;
      for (const auto& c : authz.challenges) offered += (offered.empty() ? "" : ", ") + c.type;
      return Status(ErrorCode::kFailedPrecondition,
                    "the CA offers no " + type + " challenge for " + authz.identifier.ToString() +
                        " (it offers: " + offered + "); choose another solver option");
    }
    std::string key_authorization = client_.KeyAuthorization(challenge->token);
    presented_.push_back({authz.identifier, *challenge, key_authorization});
    reporter_.Step("authorization " + authz.identifier.ToString() + ": pending; presenting " +
                   type + " challenge " + challenge->url);
    RETURN_IF_ERROR(solver_.Present(authz.identifier, *challenge, key_authorization));
    if (challenge->status == acme::ChallengeStatus::kPending) {
      ASSIGN_OR_RETURN(acme::Challenge answered, limits_.Call("the challenge answer", [&] {
        return client_.RespondToChallenge(challenge->url);
      }));
      reporter_.Step("challenge " + answered.url + ": " + acme::ToString(answered.status));
    }
    return Status::Ok();
  }

  Result<acme::Authorization> WaitAuthorization(const std::string& url) {
    return waiter_.Until<acme::Authorization>(
        "authorization " + url, [&](int attempt) { return client_.GetAuthorization(url, attempt); },
        [](const acme::Authorization& a) {
          return a.status != acme::AuthorizationStatus::kPending;
        },
        [](const acme::Authorization& a) { return a.retry_after; },
        [](const acme::Authorization& a) { return std::string(acme::ToString(a.status)); });
  }

  // Waits while the order is pending (before ready) or processing (before valid). The first
  // fetch is immediate: after the last authorization turned valid, or after finalize, the CA
  // has usually moved on already.
  Result<acme::Order> WaitOrder(const acme::Order& order, const std::string& goal) {
    std::string url = order.url;
    if (order.status == acme::OrderStatus::kValid || order.status == acme::OrderStatus::kInvalid ||
        (goal == "ready" && order.status == acme::OrderStatus::kReady)) {
      return order;
    }
    return waiter_.Until<acme::Order>(
        "order " + url + " to become " + goal,
        [&](int attempt) { return client_.GetOrder(url, attempt); },
        [](const acme::Order& o) {
          return o.status != acme::OrderStatus::kPending &&
                 o.status != acme::OrderStatus::kProcessing;
        },
        [](const acme::Order& o) { return o.retry_after; },
        [](const acme::Order& o) { return std::string(acme::ToString(o.status)); });
  }

  Result<acme::Order> FinalizeOrder(const acme::Order& order, const acme::PrivateKey& key) {
    acme::CsrRequest csr;
    csr.subject = options_.subject;
    for (const std::string& name : options_.names) {
      ASSIGN_OR_RETURN(acme::Identifier id, acme::IdentifierFor(name));
      (id.type == "ip" ? csr.ip_addresses : csr.dns_names).push_back(id.value);
      // The first name is the CN, as certbot does (RFC 5280 caps CN at 64 characters).
      if (csr.subject.common_name.empty() && id.value.size() <= 64) {
        csr.subject.common_name = id.value;
      }
    }
    ASSIGN_OR_RETURN(std::string der, acme::MakeCsrDer(key, csr));
    reporter_.Step("CSR subject " + acme::FormatSubject(csr.subject) + ", names " +
                   JoinNames(options_.names));
    if (!options_.save_csr.empty()) {
      RETURN_IF_ERROR(WriteFileAtomic(options_.save_csr, PemOf(der, "CERTIFICATE REQUEST"), 0644));
    }
    ASSIGN_OR_RETURN(acme::Order finalized,
                     limits_.Call("the finalize", [&] { return client_.Finalize(order, der); }));
    reporter_.Step("finalize " + order.finalize + ": " + acme::ToString(finalized.status));
    ASSIGN_OR_RETURN(finalized, WaitOrder(finalized, "valid"));
    if (finalized.status != acme::OrderStatus::kValid) return OrderFailed(finalized);
    return finalized;
  }

  Status OrderFailed(const acme::Order& order) {
    std::string message = "order " + order.url + " is " + acme::ToString(order.status);
    if (order.error) return ProblemStatus(message, *order.error);
    return Status(ErrorCode::kAcmeProblem, message + " and the CA gave no reason");
  }

  // A problem inside an order or challenge describes the validation, not our request: it is
  // kAcmeProblem whatever its type (a failed validation is "unauthorized", which would otherwise
  // read as a credentials error).
  static Status ProblemStatus(const std::string& message, const acme::Problem& problem) {
    Status s(ErrorCode::kAcmeProblem, message + ": " + problem.Summary());
    s.set_payload(problem.raw.dump());
    return s;
  }

  Status AuthorizationFailed(const acme::Authorization& authz) {
    std::string message = "validation of " + authz.identifier.ToString() + " failed (" +
                          acme::ToString(authz.status) + ")";
    for (const acme::Challenge& c : authz.challenges) {
      if (c.error) return ProblemStatus(message, *c.error);
    }
    return Status(ErrorCode::kAcmeProblem, message + " and the CA gave no reason");
  }

  void CleanUpAll() {
    for (const Presented& p : presented_) {
      Status s = solver_.CleanUp(p.id, p.challenge, p.key_authorization);
      if (!s.ok()) {
        std::fprintf(stderr, "certsmith acme: warning: cleanup for %s: %s\n",
                     p.id.ToString().c_str(), s.message().c_str());
      } else {
        reporter_.Step("cleaned up " + solver_.ChallengeType() + " for " + p.id.ToString());
      }
    }
    presented_.clear();
  }

  void PrintSummary(const CertificateFiles& files, const acme::CertificateChain& chain) {
    Result<acme::CertificateInfo> info = acme::ParseCertificatePem(chain.pem);
    std::printf("certificate: %s\n", files.cert.c_str());
    if (info.ok()) {
      std::printf("  names: %s\n  serial: %s\n  issuer: %s\n  not after: %s\n",
                  JoinNames(info->dns_names.empty() ? info->ip_addresses : info->dns_names).c_str(),
                  info->serial_hex.c_str(), info->issuer.c_str(),
                  acme::FormatRfc3339(info->not_after).c_str());
    }
    Result<std::vector<std::string>> blocks = acme::SplitPemCertificates(chain.pem);
    if (blocks.ok() && blocks->size() > 1) {
      Result<acme::CertificateInfo> top = acme::ParseCertificatePem(blocks->back());
      if (top.ok()) std::printf("  chain top issued by: %s\n", top->issuer.c_str());
    }
    std::printf("files: %s %s %s %s\n", files.privkey.c_str(), files.cert.c_str(),
                files.chain.c_str(), files.fullchain.c_str());
  }

  const IssueOptions& options_;
  acme::Client& client_;
  ChallengeSolver& solver_;
  const Reporter& reporter_;
  Waiter waiter_;
  RateLimitWait limits_;
  std::vector<Presented> presented_;
};

std::unique_ptr<ChallengeSolver> MakeSolver(const IssueOptions& options) {
  switch (options.solver) {
    case SolverKind::kHttp01Listen:
      return MakeHttp01ListenSolver(options.http01_host, options.http01_port);
    case SolverKind::kHttp01Webroot:
      return MakeHttp01WebrootSolver(options.webroot);
    case SolverKind::kDns01Hook:
      return MakeDns01HookSolver(options.dns01_hook);
  }
  return nullptr;
}

}  // namespace

int RunIssue(const std::vector<std::string>& args) {
  int exit_code = kExitOk;
  std::optional<ParsedFlags> flags = ParseCommandLine(args, IssueFlags(), kSynopsis, &exit_code);
  if (!flags) return exit_code;
  Result<IssueOptions> options = ParseIssueOptions(*flags, ProcessEnv());
  if (!options.ok()) return Fail(options.status());
  // RSA generation takes 0.1-1 s: it runs while we talk to the CA.
  std::future<Result<acme::PrivateKey>> key_future = std::async(
      std::launch::async, [type = options->key_type] { return GenerateCertificateKey(type); });
  Reporter reporter(options->server.verbose);
  Result<Session> session = OpenSession(options->server, /*create_key=*/true, reporter);
  if (!session.ok()) return Fail(session.status());
  std::unique_ptr<ChallengeSolver> solver = MakeSolver(*options);
  Status status;
  {
    Issuance issuance(*options, *session, *solver, reporter);
    status = issuance.Run(std::move(key_future));
  }  // challenges are cleaned up here on every path
  return status.ok() ? kExitOk : Fail(status);
}

}  // namespace certsmith::cli
