#!/usr/bin/env python3
"""A registry written for the tests: serves an OCI image layout over the distribution API on
127.0.0.1, with one fault injected (--fault): reset (blob connections cut mid-body), wrong
(blob bytes altered), error500 (every blob GET fails), flaky (the first blob GET of each blob
fails with 503, then it works), config-reset (the first GET of the config is cut mid-body,
then it works), layer-reset (the first GET of each layer blob is cut mid-body, then it works), hang (blob bodies stop and never finish), drip (blob bodies
at 2 bytes a second), token (Bearer token
auth through /token, which requires Basic credentials tester:s3cret), redirect (Basic auth
required; blobs answered with a 307 to the same server named "localhost", which refuses any
Authorization header, as a CDN must never see the registry's credentials), wrong-manifest (manifest
bytes altered), redirect401 (Basic
auth required; blobs answered with a 307 to a second, foreign server, which answers 401 with a
Bearer realm on itself and appends every Authorization header it gets to --record), referrers
(the referrers API: an index of the layout's manifests whose subject is the digest asked for),
referrers-wrong (that, and those manifests' bytes altered), referrers-html (the referrers path
answers 200 with an HTML page, as a registry that routes it to a web page). Without a referrers
fault the referrers path is a 404, as for a registry without the API. Prints the port on stdout,
then serves until killed."""
import argparse, base64, http.server, json, os, re, socketserver, sys, threading, time

TOKEN = "tok-123"
CREDS = "Basic " + base64.b64encode(b"tester:s3cret").decode()
seen = set()

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send(self, status, body=b"", headers=None):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def send_half(self, body):
        """A 200 for all of body, then half of it, a pause (the client has begun to read), a reset."""
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2])
        self.wfile.flush()
        time.sleep(0.2)
        self.connection.shutdown(2)

    def blob_path(self, digest):
        return os.path.join(args.layout, "blobs", "sha256", digest.split(":", 1)[1])

    def referrers(self):
        """Descriptors of the layout's manifests that have a subject, with that subject."""
        out = []
        d = os.path.join(args.layout, "blobs", "sha256")
        for name in sorted(os.listdir(d)):
            body = open(os.path.join(d, name), "rb").read()
            try:
                m = json.loads(body)
            except ValueError:
                continue
            if not isinstance(m, dict) or "subject" not in m:
                continue
            out.append({"mediaType": m.get("mediaType"), "digest": "sha256:" + name, "size": len(body),
                        "artifactType": m.get("artifactType"), "subject": m["subject"]["digest"]})
        return out

    def do_GET(self):
        host = self.headers.get("Host", "")
        if args.fault == "token" and self.path.startswith("/token"):
            if self.headers.get("Authorization") != CREDS:
                return self.send(401)
            return self.send(200, json.dumps({"access_token": TOKEN, "expires_in": 300}).encode())
        if args.fault == "token" and self.headers.get("Authorization") != "Bearer " + TOKEN:
            realm = "http://%s/token" % host
            return self.send(401, b"{}", {"WWW-Authenticate":
                'Bearer realm="%s",service="fake",scope="repository:test/img:pull"' % realm})
        if args.fault in ("redirect", "redirect401"):
            if host.startswith("localhost"):
                if self.headers.get("Authorization"):
                    return self.send(400, b"credentials were forwarded to another host")
            elif self.headers.get("Authorization") != CREDS:
                return self.send(401, b"{}", {"WWW-Authenticate": 'Basic realm="fake"'})
        m = re.match(r"^/v2/(.+)/(manifests|blobs)/([^/]+)$", self.path)
        parts = ["", "v2", m.group(1), m.group(2), m.group(3)] if m else []
        if self.path == "/v2/":
            return self.send(200, b"{}")
        r = re.match(r"^/v2/(.+)/referrers/(sha256:[0-9a-f]{64})$", self.path)
        if r and args.fault == "referrers-html":
            return self.send(200, b"<html>not here</html>", {"Content-Type": "text/html"})
        if r and args.fault in ("referrers", "referrers-wrong"):
            index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                     "manifests": [d for d in self.referrers() if d["subject"] == r.group(2)]}
            for d in index["manifests"]:
                del d["subject"]
            return self.send(200, json.dumps(index).encode(),
                             {"Content-Type": "application/vnd.oci.image.index.v1+json"})
        if len(parts) == 5 and parts[3] == "manifests":
            index = json.load(open(os.path.join(args.layout, "index.json")))
            digest = parts[4]
            if not digest.startswith("sha256:"):
                digest = next((m["digest"] for m in index["manifests"]
                               if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == parts[4]), None)
            if digest is None or not os.path.exists(self.blob_path(digest)):
                return self.send(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN"}]}')
            body = open(self.blob_path(digest), "rb").read()
            if args.fault == "wrong-manifest" or (args.fault == "referrers-wrong" and b'"subject"' in body):
                body = body + b" "
            return self.send(200, body, {"Content-Type": "application/vnd.oci.image.manifest.v1+json"})
        if len(parts) == 5 and parts[3] == "blobs":
            digest = parts[4]
            if not os.path.exists(self.blob_path(digest)):
                return self.send(404, b'{"errors":[{"code":"BLOB_UNKNOWN"}]}')
            body = open(self.blob_path(digest), "rb").read()
            is_config = len(body) < 2000 and body.startswith(b"{")
            if is_config and args.fault == "config-reset" and digest not in seen:
                seen.add(digest)
                return self.send_half(body)
            if is_config:
                return self.send(200, body)
            if args.fault == "redirect401":
                return self.send(307, b"", {"Location": "http://127.0.0.1:%d%s" % (foreign_port, self.path)})
            if args.fault == "redirect" and not host.startswith("localhost"):
                return self.send(307, b"", {"Location": "http://localhost:%d%s" % (port, self.path)})
            if args.fault == "error500":
                return self.send(500, b"broken")
            if args.fault == "flaky" and digest not in seen:
                seen.add(digest)
                return self.send(503, b"try again")
            if args.fault == "wrong":
                body = body[:-40] + bytes(b ^ 0xff for b in body[-40:])
            if args.fault == "reset" or (args.fault == "layer-reset" and digest not in seen):
                seen.add(digest)
                return self.send_half(body)
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if args.fault == "drip":
                try:
                    for i in range(len(body)):
                        self.wfile.write(body[i : i + 1])
                        self.wfile.flush()
                        time.sleep(0.5)
                except OSError:  # the client gave up
                    pass
                return
            if args.fault == "hang":
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                time.sleep(3600)
                return
            self.wfile.write(body)
            return
        self.send(404, b"not found")

class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

class Foreign(Handler):
    """The host redirect401 sends blobs to: it wants a token from its own realm."""

    def do_GET(self):
        if self.headers.get("Authorization"):
            with open(args.record, "a") as f:
                f.write(self.headers["Authorization"] + "\n")
        if self.path.startswith("/token"):
            return self.send(200, json.dumps({"token": "foreign-token"}).encode())
        realm = "http://127.0.0.1:%d/token" % foreign_port
        self.send(401, b"{}", {"WWW-Authenticate": 'Bearer realm="%s",service="foreign"' % realm})

parser = argparse.ArgumentParser()
parser.add_argument("--layout", required=True)
parser.add_argument("--fault", default="none")
parser.add_argument("--record")
args = parser.parse_args()
if args.fault == "redirect401":
    open(args.record, "w").close()
    foreign = Server(("127.0.0.1", 0), Foreign)
    foreign_port = foreign.server_address[1]
    threading.Thread(target=foreign.serve_forever, daemon=True).start()
server = Server(("127.0.0.1", 0), Handler)
port = server.server_address[1]
print(port, flush=True)
server.serve_forever()
