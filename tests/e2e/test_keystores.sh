#!/bin/bash
# End to end (issue #11): the extra outputs cert-manager users rely on, from a real issuance.
# - keystores.pkcs12 in each profile: keystore.p12 opens with `openssl pkcs12 -info` and the
#   password from the Secret, holding the key of tls.key and the certificate of tls.crt
#   (LegacyRC2 needs -legacy with OpenSSL 3, as cert-manager documents); truststore.p12 opens
#   too; the algorithms OpenSSL reports are the profile's (LegacyDES: 3DES only, what IIS imports).
# - keystores.jks: `keytool -list` reads keystore.jks with the password and shows the key entry
#   (alias "certificate") and the CA; the certificate keytool exports is tls.crt's, and keytool
#   reads the key back out (into a PKCS#12 store) as tls.key's. keytool comes from Debian's
#   openjdk-17-jre-headless (scripts/apt-packages.txt); without it (outside CI) the JKS part is
#   left to the unit tests, and said so.
# - additionalOutputFormats: tls-combined.pem is the key then the chain; key.der is tls.key as
#   PKCS#8 DER.
# - the certsmith.io/ annotations on the Secret name the certificate, its issuer and its SANs.
# - a field certsmith cannot honour (isCA: true) gives Ready=False InvalidSpec saying why.
. "$(dirname "$0")/lib.sh"
testbed_up
pebble_issuer_ready
kubectl create secret generic p12-password --from-literal=password='p12 S3cret!' >/dev/null \
  || fail "password Secret"

for profile in LegacyRC2 LegacyDES Modern2023; do
  name=p12-$(tr 'A-Z' 'a-z' <<<"$profile")
  { certificate "$name" "$name.e2e.example" pebble; cat <<YAML
  keystores:
    pkcs12:
      create: true
      profile: $profile
      passwordSecretRef: {name: p12-password, key: password}
YAML
  } | kubectl apply -f - >/dev/null || fail "Certificate $name"
done
{ certificate jks jks.e2e.example pebble; cat <<YAML
  keystores:
    jks: {create: true, passwordSecretRef: {name: p12-password, key: password}}
  additionalOutputFormats: [{type: CombinedPEM}, {type: DER}]
  ipAddresses: [127.0.0.1]
YAML
} | kubectl apply -f - >/dev/null || fail "Certificate jks"
{ certificate ca ca.e2e.example pebble; echo "  isCA: true"; } | kubectl apply -f - >/dev/null \
  || fail "Certificate ca"

secret_key() {  # SECRET KEY FILE: writes data[KEY] of SECRET, decoded
  kubectl get secret "$1" -o jsonpath="{.data.${2//./\\.}}" | base64 -d >"$3"
}
PASS=$(kubectl get secret p12-password -o jsonpath='{.data.password}' | base64 -d)

for profile in LegacyRC2 LegacyDES Modern2023; do
  name=p12-$(tr 'A-Z' 'a-z' <<<"$profile")
  wait_for 90 ready certificate "$name" default True || fail "$name not Ready"
  secret_files "$name-tls"
  secret_key "$name-tls" keystore.p12 "$WORK/$name.p12"
  secret_key "$name-tls" truststore.p12 "$WORK/$name-trust.p12"
  legacy=""; [ "$profile" = LegacyRC2 ] && legacy=-legacy
  info=$(openssl pkcs12 $legacy -info -in "$WORK/$name.p12" -passin pass:"$PASS" -nodes 2>&1) \
    || { echo "$info"; fail "$name: openssl pkcs12 -info cannot open keystore.p12"; }
  openssl pkcs12 $legacy -in "$WORK/$name.p12" -passin pass:"$PASS" -nocerts -nodes 2>/dev/null |
    openssl pkey -pubout >"$WORK/$name.p12pub" || fail "$name: no key in keystore.p12"
  openssl pkey -in "$WORK/$name-tls.key" -pubout | cmp -s - "$WORK/$name.p12pub" \
    || fail "$name: keystore.p12 holds another key than tls.key"
  openssl pkcs12 $legacy -in "$WORK/$name.p12" -passin pass:"$PASS" -clcerts -nokeys 2>/dev/null |
    openssl x509 >"$WORK/$name.p12crt" || fail "$name: no certificate in keystore.p12"
  openssl x509 -in "$WORK/$name-tls.crt" | cmp -s - "$WORK/$name.p12crt" \
    || fail "$name: keystore.p12's certificate is not tls.crt's"
  case $profile in
    LegacyRC2) want_cert="pbeWithSHA1And40BitRC2-CBC"; want_key="pbeWithSHA1And3-KeyTripleDES-CBC"; mac=sha1 ;;
    LegacyDES) want_cert="pbeWithSHA1And3-KeyTripleDES-CBC"; want_key="pbeWithSHA1And3-KeyTripleDES-CBC"; mac=sha1 ;;
    Modern2023) want_cert="PBES2, PBKDF2, AES-256-CBC"; want_key="PBES2, PBKDF2, AES-256-CBC"; mac=sha256 ;;
  esac
  grep -q "MAC: $mac" <<<"$info" || { echo "$info" | head -5; fail "$name: MAC is not $mac"; }
  grep -q "PKCS7 Encrypted data: $want_cert" <<<"$info" || { echo "$info" | grep -i pkcs7; fail "$name: certificates not under $want_cert"; }
  grep -q "Shrouded Keybag: $want_key" <<<"$info" || { echo "$info" | grep -i keybag; fail "$name: key not under $want_key"; }
  openssl pkcs12 $legacy -info -in "$WORK/$name-trust.p12" -passin pass:"$PASS" -nokeys >/dev/null 2>&1 \
    || fail "$name: truststore.p12 does not open"
  if openssl pkcs12 $legacy -info -in "$WORK/$name.p12" -passin pass:wrong -nodes >/dev/null 2>&1; then
    fail "$name: keystore.p12 opens with a wrong password"
  fi
  echo "ok: $name keystore.p12 opens with the Secret's password ($want_cert, MAC $mac), key and certificate match"
done

wait_for 90 ready certificate jks default True || fail "jks not Ready"
secret_files jks-tls
secret_key jks-tls keystore.jks "$WORK/keystore.jks"
secret_key jks-tls truststore.jks "$WORK/truststore.jks"
if command -v keytool >/dev/null; then
  list=$(keytool -list -v -keystore "$WORK/keystore.jks" -storetype JKS -storepass "$PASS" 2>&1) \
    || { echo "$list"; fail "keytool cannot list keystore.jks"; }
  grep -q "Alias name: certificate" <<<"$list" && grep -q "Entry type: PrivateKeyEntry" <<<"$list" \
    && grep -q "Alias name: ca" <<<"$list" || { echo "$list" | head -30; fail "keystore.jks entries"; }
  keytool -exportcert -rfc -alias certificate -keystore "$WORK/keystore.jks" -storetype JKS \
    -storepass "$PASS" 2>/dev/null | openssl x509 >"$WORK/jks.crt" || fail "keytool -exportcert"
  openssl x509 -in "$WORK/jks-tls.crt" | cmp -s - "$WORK/jks.crt" || fail "keystore.jks holds another certificate"
  # keytool only reads a key entry whose password and digest are right: importing it into a
  # PKCS#12 store proves the key decrypts.
  keytool -importkeystore -srckeystore "$WORK/keystore.jks" -srcstoretype JKS -srcstorepass "$PASS" \
    -destkeystore "$WORK/from-jks.p12" -deststoretype PKCS12 -deststorepass "$PASS" -noprompt >/dev/null 2>&1 \
    || fail "keytool cannot read the key out of keystore.jks"
  openssl pkcs12 -in "$WORK/from-jks.p12" -passin pass:"$PASS" -nocerts -nodes 2>/dev/null | openssl pkey -pubout |
    cmp -s - <(openssl pkey -in "$WORK/jks-tls.key" -pubout) || fail "keystore.jks holds another key"
  keytool -list -keystore "$WORK/truststore.jks" -storetype JKS -storepass "$PASS" 2>&1 | grep -q trustedCertEntry \
    || fail "truststore.jks has no trusted certificate"
  if keytool -list -keystore "$WORK/keystore.jks" -storetype JKS -storepass wrongpass >/dev/null 2>&1; then
    fail "keystore.jks lists with a wrong password"
  fi
  echo "ok: keytool lists keystore.jks (certificate, ca), its key and certificate are tls.key/tls.crt's"
else
  [ "${CI:-}" = true ] && fail "keytool missing in CI (scripts/apt-packages.txt installs it)"
  echo "NOTE: keytool not installed; keystore.jks checked by the unit tests only"
fi

secret_key jks-tls tls-combined.pem "$WORK/combined.pem"
[ "$(cat "$WORK/jks-tls.key" "$WORK/jks-tls.crt")" = "$(cat "$WORK/combined.pem")" ] \
  || fail "tls-combined.pem is not the key then the chain"
secret_key jks-tls key.der "$WORK/key.der"
openssl pkey -inform DER -in "$WORK/key.der" -pubout | cmp -s - <(openssl pkey -in "$WORK/jks-tls.key" -pubout) \
  || fail "key.der is not tls.key in DER"
echo "ok: tls-combined.pem and key.der present and right"

ann() { kubectl get secret jks-tls -o jsonpath="{.metadata.annotations.certsmith\.io/$1}"; }
[ "$(ann alt-names)" = jks.e2e.example ] || fail "alt-names annotation: $(ann alt-names)"
[ "$(ann ip-sans)" = 127.0.0.1 ] || fail "ip-sans annotation: $(ann ip-sans)"
[ "$(ann issuer-name)" = pebble ] && [ "$(ann issuer-kind)" = ClusterIssuer ] && [ "$(ann issuer-group)" = certsmith.io ] \
  || fail "issuer annotations"
[ "$(ann certificate-name)" = jks ] || fail "certificate-name annotation"
echo "ok: Secret annotations (alt-names, ip-sans, issuer-name/kind/group, certificate-name)"

wait_for 30 ready certificate ca default False || fail "isCA: true not refused"
reason=$(kubectl get certificate ca -o jsonpath='{.status.conditions[?(@.type=="Ready")].reason}')
message=$(kubectl get certificate ca -o jsonpath='{.status.conditions[?(@.type=="Ready")].message}')
[ "$reason" = InvalidSpec ] && grep -q "spec.isCA: ACME CAs issue end-entity certificates only" <<<"$message" \
  || fail "isCA: $reason: $message"
[ -z "$(kubectl get orders -l certsmith.io/certificate-name=ca -o name)" ] || fail "isCA: an Order was made"
echo "ok: isCA: true refused: $message"
echo PASS
