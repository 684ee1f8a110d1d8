#!/usr/bin/env python3
"""A fake Vault server: just enough of Vault's HTTP API for homelab's token lookup.

It serves, over HTTPS on 127.0.0.1:
  GET /v1/sys/internal/ui/mounts/<path>   which mount holds <path>, and its KV version
  GET /v1/<mount>/data/<rest>              KV v2 read   -> {"data":{"data":{...},"metadata":{...}}}
  GET /v1/<mount>/<rest>                   KV v1 read   -> {"data":{...}}
Vault accepts the token as `X-Vault-Token: T` or `Authorization: Bearer T`; a missing
or wrong token gets 403 {"errors":["permission denied"]}, an unknown secret 404
{"errors":[]}, exactly as Vault answers.

Usage: vault.py --cert PEM --key KEY --port-file F --token T --mount secret --version 1|2
                --secret ci/global --field woodpecker_api_token=VALUE [--no-mounts-endpoint]
                [--plain-http]
"""
import argparse
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from fakehttp import tls_context, write_port_file


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--port-file", required=True)
    p.add_argument("--token", required=True)
    p.add_argument("--mount", default="secret")
    p.add_argument("--version", type=int, choices=(1, 2), default=2)
    p.add_argument("--secret", default="ci/global")
    p.add_argument("--field", action="append", default=[], help="NAME=VALUE")
    p.add_argument("--plain-http", action="store_true",
                   help="serve plain http (as Vault's dev server and agent listeners)")
    p.add_argument("--no-mounts-endpoint", action="store_true",
                   help="answer 403 on sys/internal/ui/mounts, as a restricted policy does")
    return p.parse_args()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeVault"

    def log_message(self, fmt, *args):
        sys.stderr.write("vault: " + (fmt % args) + "\n")

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def token_ok(self):
        tok = self.headers.get("X-Vault-Token")
        auth = self.headers.get("Authorization", "")
        if not tok and auth.startswith("Bearer "):
            tok = auth[len("Bearer "):]
        return tok == self.server.args.token

    def do_GET(self):
        a = self.server.args
        path = self.path.split("?", 1)[0]
        if not self.token_ok():
            return self.reply(403, {"errors": ["permission denied"]})
        mounts = "/v1/sys/internal/ui/mounts/"
        if path.startswith(mounts):
            if a.no_mounts_endpoint:
                return self.reply(403, {"errors": ["permission denied"]})
            if not path[len(mounts):].startswith(a.mount + "/"):
                return self.reply(400, {"errors": ["no mount for path"]})
            opts = {"version": str(a.version)} if a.version == 2 else None
            return self.reply(200, {"data": {"path": a.mount + "/", "type": "kv",
                                             "options": opts}})
        fields = dict(f.split("=", 1) for f in a.field)
        if a.version == 2 and path == "/v1/%s/data/%s" % (a.mount, a.secret):
            return self.reply(200, {"data": {"data": fields,
                                             "metadata": {"version": 1}}})
        if a.version == 1 and path == "/v1/%s/%s" % (a.mount, a.secret):
            return self.reply(200, {"data": fields, "lease_duration": 2764800})
        return self.reply(404, {"errors": []})


def main():
    args = parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.args = args
    if not args.plain_http:
        srv.socket = tls_context(args.cert, args.key).wrap_socket(srv.socket, server_side=True)
    write_port_file(args.port_file, srv.server_address[1])
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
