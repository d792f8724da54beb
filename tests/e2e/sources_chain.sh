# sources_chain.sh -- make_chain DIR NAME [LEAF_EXT] [INTER_EXT] [LEAF_DAYS]: an App Store-like
# certificate chain made with the openssl CLI (P-256 keys): DIR/NAME-root.pem, -inter.pem,
# -leaf.pem and -leaf.key.  The intermediate carries OID 1.2.840.113635.100.6.2.1 and the
# leaf OID 1.2.840.113635.100.6.11.1, as Apple's do (extensions "inter"/"leaf"); the
# "*_nooid" extensions leave them out.  Sourced by tests/e2e/sources.sh and bench/bench_sources.sh.
make_chain() {
  d=$1; n=$2; lext=${3:-leaf}; iext=${4:-inter}; ldays=${5:-3650}
  mkdir -p "$d"
  cat >"$d/ext.cnf" <<'CNF'
[req]
distinguished_name = dn
[dn]
[root]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[inter]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
1.2.840.113635.100.6.2.1 = ASN1:NULL
[inter_nooid]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[leaf]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
1.2.840.113635.100.6.11.1 = ASN1:NULL
[leaf_nooid]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
CNF
  for k in root inter leaf; do
    openssl ecparam -name prime256v1 -genkey -noout -out "$d/$n-$k.key" 2>/dev/null || return 1
  done
  openssl req -x509 -new -key "$d/$n-root.key" -subj "/CN=Test Root CA $n" -days 3650 -sha256 \
    -config "$d/ext.cnf" -extensions root -out "$d/$n-root.pem" 2>/dev/null || return 1
  openssl req -new -key "$d/$n-inter.key" -subj "/CN=Test Intermediate $n" -config "$d/ext.cnf" \
    -out "$d/$n-inter.csr" 2>/dev/null || return 1
  openssl x509 -req -in "$d/$n-inter.csr" -CA "$d/$n-root.pem" -CAkey "$d/$n-root.key" -set_serial 2 \
    -days 3650 -sha256 -extfile "$d/ext.cnf" -extensions "$iext" -out "$d/$n-inter.pem" 2>/dev/null || return 1
  openssl req -new -key "$d/$n-leaf.key" -subj "/CN=Test Leaf $n" -config "$d/ext.cnf" \
    -out "$d/$n-leaf.csr" 2>/dev/null || return 1
  openssl x509 -req -in "$d/$n-leaf.csr" -CA "$d/$n-inter.pem" -CAkey "$d/$n-inter.key" -set_serial 3 \
    -days "$ldays" -sha256 -extfile "$d/ext.cnf" -extensions "$lext" -out "$d/$n-leaf.pem" 2>/dev/null || return 1
  # the leaf key as PKCS#8 PEM for the signer
  openssl pkcs8 -topk8 -nocrypt -in "$d/$n-leaf.key" -out "$d/$n-leaf.p8" 2>/dev/null || return 1
}
