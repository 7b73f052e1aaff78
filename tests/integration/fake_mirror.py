#!/usr/bin/env python3
"""A mirror written for the tests: serves a repository directory over HTTP on 127.0.0.1:PORT
with one fault injected into every object it serves (GET /objects/...): corrupt (one byte of
the body altered), error500 (HTTP 500), reset (half the body, then the connection reset),
hang (half the body, then nothing until killed), slow (bodies at 2 MiB/s), drip (3 bytes a
second: never silent for a second, so never a stall). Byte ranges
(Range: bytes=A-B) are served as 206; a corrupt object is corrupt in every range that holds
its middle byte. Anything else is served as it is. Each request's path is logged on stdout (flushed), which the tests
read to see whom we asked."""
import argparse, http.server, os, re, socket, socketserver, struct, sys, time

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_GET(self):
        print(self.path, flush=True)
        path = os.path.realpath(os.path.join(args.root, self.path.lstrip("/")))
        if not path.startswith(os.path.realpath(args.root) + "/") or not os.path.isfile(path):
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = open(path, "rb").read()
        fault = args.fault if self.path.startswith("/objects/") else "none"
        if fault == "error500":
            self.send_response(500)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if fault == "corrupt":
            mid = len(body) // 2
            body = body[:mid] + bytes([body[mid] ^ 0xFF]) + body[mid + 1:]
        m = re.match(r"bytes=(\d+)-(\d+)$", self.headers.get("Range", ""))
        if m:
            first, last = int(m.group(1)), min(int(m.group(2)), len(body) - 1)
            self.send_response(206)
            self.send_header("Content-Range", "bytes %d-%d/%d" % (first, last, len(body)))
            body = body[first : last + 1]
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if fault in ("reset", "hang"):
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            if fault == "hang":
                while True:
                    time.sleep(60)
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            return
        if fault == "drip":
            for i in range(0, len(body), 3):
                self.wfile.write(body[i : i + 3])
                self.wfile.flush()
                time.sleep(1)
            return
        if fault == "slow":
            for i in range(0, len(body), 65536):
                self.wfile.write(body[i : i + 65536])
                self.wfile.flush()
                time.sleep(1 / 32)
            return
        self.wfile.write(body)

class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True

parser = argparse.ArgumentParser()
parser.add_argument("--root", required=True)
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--fault", choices=["none", "corrupt", "error500", "reset", "hang", "slow", "drip"], default="none")
args = parser.parse_args()
Server(("127.0.0.1", args.port), Handler).serve_forever()
