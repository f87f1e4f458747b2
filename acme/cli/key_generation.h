// Certificate key generation for `issue`, as fast as the machine allows. RSA generation is a
// random search for primes whose time varies a lot from run to run (0.1-1 s for 2048 bits); on a
// one-shot command it is the longest single step once polling is fast. So RSA keys are searched
// by two threads at once and the first key found wins; the other search is cancelled through
// OpenSSL's keygen callback. ECDSA keys take well under a millisecond and are made directly.
#pragma once

#include "acme/key.h"
#include "certsmith/status.h"

namespace certsmith::cli {

Result<acme::PrivateKey> GenerateCertificateKey(acme::KeyType type);

}  // namespace certsmith::cli
