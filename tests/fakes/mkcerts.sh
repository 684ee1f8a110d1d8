#!/bin/sh
# Generates a throwaway test CA and server certificates into DIR:
#   ca.pem ca.key          the test CA (tests pass it with --cacert/HOMELAB_CACERT)
#   woodpecker.pem/.key    for the name ci.homelab.test ONLY (no IP), so every
#                          client must reach it through ci.dial / --dial
#   local.pem/.key         for IP 127.0.0.1 and localhost (fake Kubernetes, Vault)
#   other-ca.pem           an unrelated CA, for "wrong CA" tests
#   github.pem/.key        for api.github.test ONLY (the fake GitHub API)
#   githublogs.pem/.key    for logs.github.test ONLY (the fake's log storage host)
# Usage: mkcerts.sh DIR   (makes only the files that are missing, so an older
# DIR gains new leaves; a lock keeps parallel callers from mixing key pairs)
set -eu
dir=$1
mkdir -p "$dir"
cd "$dir"
exec 9>.lock
flock 9
[ -f githublogs.pem ] && exit 0      # complete (perhaps by another caller while we waited)

ca() { # name subject
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$1.key" -out "$1.pem" -days 30 -subj "/CN=$2" \
        -addext basicConstraints=critical,CA:TRUE \
        -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
}

leaf() { # name san
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$1.key" -out "$1.csr" -subj "/CN=$1" 2>/dev/null
    printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' "$2" > "$1.ext"
    openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial \
        -out "$1.pem" -days 30 -extfile "$1.ext" 2>/dev/null
    rm -f "$1.csr" "$1.ext"
}

[ -f ca.pem ] || ca ca "homelab test CA"
[ -f other-ca.pem ] || ca other-ca "unrelated test CA"
[ -f woodpecker.pem ] || leaf woodpecker "DNS:ci.homelab.test"
[ -f local.pem ] || leaf local "IP:127.0.0.1,DNS:localhost"
[ -f github.pem ] || leaf github "DNS:api.github.test"
[ -f githublogs.pem ] || leaf githublogs "DNS:logs.github.test"
