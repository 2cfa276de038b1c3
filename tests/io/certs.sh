#!/bin/sh
# certs.sh OUTDIR - a throw-away PKI for the TLS tests (never use it for
# anything else: the keys are unencrypted and live in a temp directory).
#
#   ca.pem ca.key               test CA
#   server.pem server.key       CN=localhost, SAN DNS:localhost, IP:127.0.0.1,
#                               IP:::1, signed by the test CA
#   client.pem client.key       CN=cio test client, clientAuth, signed by it
#   other-ca.pem other-ca.key   a second CA nobody trusts
#   other-server.pem/.key       a "localhost" certificate signed by other-ca
#
# EC P-256 keys (fast to generate); validity 2 days. Needs the openssl
# command (Debian package openssl). Exits non-zero on any failure.
set -eu

out=${1:?usage: certs.sh OUTDIR}
mkdir -p "$out"
cd "$out"

# A minimal config, so the host's openssl.cnf defaults do not leak in.
cat > cio-openssl.cnf <<'CNF'
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
authorityKeyIdentifier = keyid
[client_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
authorityKeyIdentifier = keyid
CNF

ossl() { openssl "$@" 2>/dev/null || { echo "certs.sh: openssl $1 failed" >&2; exit 1; }; }

key() { ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"; }

ca() { # name CN
  key "$1.key"
  ossl req -config cio-openssl.cnf -new -x509 -key "$1.key" -subj "/CN=$2" \
    -days 2 -extensions ca_ext -out "$1.pem"
}

leaf() { # name CN ca ext
  key "$1.key"
  ossl req -config cio-openssl.cnf -new -key "$1.key" -subj "/CN=$2" -out "$1.csr"
  ossl x509 -req -in "$1.csr" -CA "$3.pem" -CAkey "$3.key" -CAcreateserial \
    -days 2 -extfile cio-openssl.cnf -extensions "$4" -out "$1.pem"
  rm -f "$1.csr"
}

ca ca "cio test CA"
ca other-ca "cio untrusted CA"
leaf server localhost ca server_ext
leaf client "cio test client" ca client_ext
leaf other-server localhost other-ca server_ext
rm -f ca.srl other-ca.srl
