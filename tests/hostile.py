#!/usr/bin/env python3
"""Hostile input and hostile clients against a real `dsar serve`, bounded in time.

Starts the server on SQLite or PostgreSQL in a temporary folder, then throws at it what a
probe of the release build found (oversized multipart bodies without a cookie, parallel
password guesses, NUL bytes, malformed posts, CR/LF in redirects, unknown ids, replayed
cookies, dates from the year 1, polyglot documents, reset floods, /api/v2) and more (huge
JSON, deep nesting, invalid UTF-8, long headers and URLs, path traversal, slow clients).

Prints one line per case and a summary: requests sent, server errors (5xx), failed
expectations, and the server's peak resident memory (VmHWM). Exits non-zero if any server
error, any failed expectation, or a peak over --max-rss-mib.

    python3 tests/hostile.py --binary target/release/dsar --backend sqlite
    python3 tests/hostile.py --binary target/release/dsar --backend postgres \\
        --postgres-url postgres://postgres@127.0.0.1:5432/test

Only the standard library; PostgreSQL databases are made with `psql`.
"""

import argparse
import concurrent.futures as futures
import http.client
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

MIB = 1024 * 1024


class Server:
    def __init__(self, args):
        self.args = args
        self.dir = tempfile.mkdtemp(prefix="dsar-hostile-")
        self.port = free_port()
        self.db_name = None
        if args.backend == "postgres":
            self.db_name = f"hostile_{os.getpid()}_{secrets.token_hex(3)}"
            psql(args.postgres_url, f'CREATE DATABASE "{self.db_name}"')
            url = urllib.parse.urlsplit(args.postgres_url)
            db_url = url._replace(path="/" + self.db_name).geturl()
        else:
            db_url = f"sqlite://{self.dir}/dsar.sqlite3"
        self.env = dict(
            os.environ,
            DSAR_DATABASE__URL=db_url,
            DSAR_HTTP__BIND=f"127.0.0.1:{self.port}",
            DSAR_HTTP__WORKERS="2",
            DSAR_MAIL__OUTBOX_DIR=f"{self.dir}/outbox",
            DSAR_STORAGE__DIR=f"{self.dir}/files",
            DSAR_LOG__FILTER="warn",
            DSAR_ORGANISATION__BASE_URL=f"http://127.0.0.1:{self.port}",
            # Each client of the run comes from an address of its own, as people do, so one
            # case's filings do not use up another's hourly allowance.
            DSAR_PORTAL__TRUST_FORWARDED_FOR="true",
        )
        self.proc = None
        self.peak_rss_kib = 0
        self.log = open(f"{self.dir}/server.log", "wb")

    def cli(self, *argv):
        out = subprocess.run(
            [self.args.binary, *argv], env=self.env, cwd=self.dir, capture_output=True, timeout=60
        )
        if out.returncode != 0:
            raise SystemExit(f"dsar {' '.join(argv)} failed: {out.stderr.decode()[-2000:]}")
        return out.stdout.decode()

    def start(self):
        self.cli("migrate")
        self.proc = subprocess.Popen(
            [self.args.binary, "serve"], env=self.env, cwd=self.dir, stdout=self.log, stderr=self.log
        )
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                if raw_get(self.port, "/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        else:
            raise SystemExit("the server did not start")
        threading.Thread(target=self._watch, daemon=True).start()

    def _watch(self):
        while self.proc and self.proc.poll() is None:
            self.peak_rss_kib = max(self.peak_rss_kib, status_kib(self.proc.pid, "VmHWM"))
            time.sleep(0.05)

    def rss_mib(self):
        return status_kib(self.proc.pid, "VmRSS") / 1024

    def stop(self):
        if self.proc:
            self.peak_rss_kib = max(self.peak_rss_kib, status_kib(self.proc.pid, "VmHWM"))
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()
        if self.db_name:
            psql(self.args.postgres_url, f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')
        if self.args.keep:
            print(f"kept {self.dir}")
        else:
            shutil.rmtree(self.dir, ignore_errors=True)


def status_kib(pid, field):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def psql(url, sql):
    subprocess.run(["psql", url, "-q", "-c", sql], check=True, capture_output=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def raw_get(port, path):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("GET", path)
    r = c.getresponse()
    return r.status, r.read()


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def header(self, name):
        return self.headers.get(name.lower(), "")

    def text(self):
        return self.body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.body)


class Client:
    """A browser of sorts: keeps cookies, counts every answer and every server error."""

    stats_lock = threading.Lock()
    sent = 0
    errors = []

    def __init__(self, port, ip=None):
        self.port = port
        self.cookies = {}
        self.ip = ip or f"10.{secrets.randbelow(256)}.{secrets.randbelow(256)}.{secrets.randbelow(254) + 1}"

    def request(self, method, path, body=None, headers=None, timeout=60):
        headers = dict(headers or {})
        headers.setdefault("X-Forwarded-For", self.ip)
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            c.request(method, path, body=body, headers=headers)
            r = c.getresponse()
            data = r.read()
        except (BrokenPipeError, ConnectionResetError) as e:
            # The server answered and closed before the whole body went: a refusal, which is
            # what an oversized body deserves. The answer, if any, is read back.
            try:
                r = c.getresponse()
                data = r.read()
            except Exception:
                self.count(None, method, path)
                return Response(0, {}, str(e).encode())
        finally:
            c.close()
        resp_headers = {}
        for k, v in r.getheaders():
            k = k.lower()
            if k == "set-cookie":
                name, _, rest = v.partition("=")
                value = rest.split(";", 1)[0]
                if "max-age=0" in v.lower() or value == "":
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = value
            resp_headers[k] = v
        self.count(r.status, method, path)
        return Response(r.status, resp_headers, data)

    def count(self, status, method, path):
        with Client.stats_lock:
            Client.sent += 1
            if status is not None and status >= 500:
                Client.errors.append(f"{status} {method} {path[:80]}")

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def form(self, path, fields, **kw):
        body = urllib.parse.urlencode(fields).encode()
        return self.request(
            "POST",
            path,
            body=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            **kw,
        )

    def multipart(self, path, parts, **kw):
        boundary = "hostile" + secrets.token_hex(8)
        body, length = multipart_body(boundary, parts)
        return self.request(
            "POST",
            path,
            body=body,
            headers={
                "Content-Type": f"multipart/form-data; boundary={boundary}",
                "Content-Length": str(length),
            },
            **kw,
        )

    def csrf(self, path):
        page = self.get(path)
        m = re.search(r'name="csrf" value="([^"]+)"', page.text())
        return m.group(1) if m else ""


def multipart_body(boundary, parts):
    """The body as a generator (files of any size never sit in memory here) and its length.
    A part is (name, value) or (name, filename, bytes) or (name, filename, (chunk, count))."""
    pieces = []
    for part in parts:
        if len(part) == 2:
            name, value = part
            head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
            data = value if isinstance(value, bytes) else value.encode()
            pieces.append((head.encode(), [data]))
        else:
            name, filename, content = part
            head = (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'
            )
            if isinstance(content, tuple):
                chunk, count = content
                chunks = [chunk] * count
            else:
                chunks = [content]
            pieces.append((head.encode(), chunks))
    tail = f"--{boundary}--\r\n".encode()
    length = sum(len(h) + sum(len(c) for c in cs) + 2 for h, cs in pieces) + len(tail)

    def gen():
        for head, chunks in pieces:
            yield head
            yield from chunks
            yield b"\r\n"
        yield tail

    return gen(), length


# ------------------------------------------------------------------------------------------
# The cases. Each returns a list of failed expectations (empty when all held).


class Context:
    def __init__(self, server, api_key, staff_email, password):
        self.server = server
        self.port = server.port
        self.api_key = api_key
        self.staff_email = staff_email
        self.password = password

    def client(self):
        return Client(self.port)

    def api(self, method, path, body=None, raw=None, headers=None):
        h = {"Authorization": f"Bearer {self.api_key}", "Content-Type": "application/json"}
        h.update(headers or {})
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        return self.client().request(method, path, body=data, headers=h)

    def file(self, name="Camille Martin", email=None):
        email = email or f"p{secrets.token_hex(4)}@example.fr"
        r = self.api(
            "POST",
            "/api/v1/requests",
            {"kind": "access", "requester": {"name": name, "email": email}, "channel": "email"},
        )
        return r

    def staff(self):
        c = self.client()
        csrf = c.csrf("/admin/login")
        r = c.form(
            "/admin/login",
            {"csrf": csrf, "email": self.staff_email, "password": self.password},
        )
        if r.status != 303:
            raise RuntimeError(f"staff sign-in answered {r.status}")
        return c

    def requester_link(self):
        """A request filed on the portal and the status page link from its mail."""
        c = self.client()
        csrf = c.csrf("/fr/request/access")
        email = f"r{secrets.token_hex(4)}@example.fr"
        r = c.multipart(
            "/fr/request/access",
            [
                ("csrf", csrf),
                ("name", "Camille Martin"),
                ("email", email),
                ("country", "FR"),
                ("acting", "self"),
                ("access_scope", "all"),
            ],
        )
        if r.status != 303:
            raise RuntimeError(f"portal filing answered {r.status}: {r.text()[:300]}")
        link = None
        deadline = time.time() + 20
        while link is None and time.time() < deadline:
            for name in os.listdir(f"{self.server.dir}/outbox") if os.path.isdir(f"{self.server.dir}/outbox") else []:
                # A mail being written can be listed and gone (renamed into place) the next
                # instant: read it on the next pass.
                try:
                    with open(f"{self.server.dir}/outbox/{name}", "rb") as f:
                        mail = f.read().decode("utf-8", "replace")
                except FileNotFoundError:
                    continue
                if email in mail:
                    m = re.search(r"(/(?:fr|en)/r/[A-Za-z0-9_-]+)", mail.replace("=\r\n", ""))
                    if m:
                        link = m.group(1)
            time.sleep(0.2)
        if link is None:
            raise RuntimeError("no mail with a link")
        return c, link


def expect(failures, label, ok, detail=""):
    if not ok:
        failures.append(f"{label}: {detail}")


def case_a_big_multipart(ctx):
    """A: 60 file parts of 9.9 MB, without a cookie, three at once; then with a cookie."""
    f = []
    big = (b"\0" * MIB, 10)  # 10 MiB of zeros per part, written from one buffer
    parts = [(f"f{i}", f"f{i}.pdf", big) for i in range(60)]
    started = time.time()
    with futures.ThreadPoolExecutor(3) as pool:
        answers = list(pool.map(lambda _: ctx.client().multipart("/fr/request/access", parts, timeout=120), range(3)))
    took = time.time() - started
    for r in answers:
        expect(f, "A no cookie", r.status in (0, 400, 403, 413), f"answered {r.status}")
    expect(f, "A no cookie time", took < 30, f"{took:.1f} s to refuse")
    # With the cookie and the token: refused for its size or its parts, without holding it.
    c = ctx.client()
    csrf = c.csrf("/fr/request/access")
    r = c.multipart("/fr/request/access", [("csrf", csrf)] + parts, timeout=120)
    expect(f, "A with cookie", r.status in (0, 400, 413, 422), f"answered {r.status}")
    # Content-Length over any cap: refused before a byte of the body is read.
    raw = socket.create_connection(("127.0.0.1", ctx.port), timeout=10)
    raw.sendall(
        b"POST /fr/request/access HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=x\r\n"
        b"Content-Length: 99999999999\r\n\r\n"
    )
    head = raw.recv(200).decode("latin-1")
    raw.close()
    status = int(head.split()[1]) if head.startswith("HTTP/") else 0
    Client(ctx.port).count(status, "POST", "/fr/request/access (Content-Length 99 GB)")
    expect(f, "A huge Content-Length", status in (400, 403, 413), f"answered {head[:40]!r}")
    return f, f"3 × 600 MiB refused in {took:.1f} s"


def case_a_status_forms(ctx):
    """A on the status page's forms and the dashboard's send form."""
    f = []
    c, link = ctx.requester_link()
    big = (b"A" * MIB, 12)
    csrf = c.csrf(link)
    for path in ("message", "identity"):
        r = c.multipart(f"{link}/{path}", [("csrf", csrf), ("body", "x")] + [(f"f{i}", "a.pdf", big) for i in range(20)], timeout=120)
        expect(f, f"A {path}", r.status in (0, 303, 400, 413, 422), f"answered {r.status}")
    staff = ctx.staff()
    filed = ctx.file().json()
    ref = filed["reference"]
    csrf = staff.csrf(f"/admin/requests/{ref}")
    r = staff.multipart(f"/admin/requests/{ref}/send", [("csrf", csrf), ("action", "reply"), ("text", "x")] + [(f"f{i}", "a.pdf", big) for i in range(20)], timeout=120)
    # Refused: the request page again (422, what was typed kept), or cut off at the cap.
    expect(f, "A admin send", r.status in (0, 303, 400, 413, 422), f"answered {r.status}")
    return f, ""


def case_b_parallel_guesses(ctx):
    """B: 40 wrong passwords at once; 10 wrong and the right one at once."""
    f = []

    def attempt(password):
        c = ctx.client()
        csrf = c.csrf("/admin/login")
        r = c.form("/admin/login", {"csrf": csrf, "email": ctx.staff_email, "password": password})
        return r.status, "dsar_staff" in c.cookies

    email_backup = ctx.staff_email
    # A second account, so that the main one stays usable for the other cases.
    with futures.ThreadPoolExecutor(40) as pool:
        results = list(pool.map(attempt, ["wrong-" + str(i) for i in range(40)]))
    throttled = sum(1 for s, _ in results if s == 429)
    expect(f, "B 40 wrong", throttled >= 30, f"only {throttled} of 40 throttled")
    with futures.ThreadPoolExecutor(11) as pool:
        results = list(pool.map(attempt, ["wrong"] * 10 + [ctx.password]))
    expect(f, "B burst", not any(signed for _, signed in results), "a password got through a throttled account")
    ctx.staff_email = email_backup
    return f, f"{throttled}/40 throttled"


NUL_CASES = [
    {"name": "Cam\0ille"},
    {"name": "\u200b\u200d\ufeff"},
    {"name": "Camille\u202eelliM"},
    {"name": "Camille\x07"},
    {"email": "camille\0@example.fr"},
    {"customer_ref": "C-\0"},
]


def case_c_nul_bytes(ctx):
    """C: NUL bytes, zero-width names, bidi overrides and controls, everywhere."""
    f = []
    for change in NUL_CASES:
        requester = {"name": "Camille Martin", "email": "camille@example.fr"}
        requester.update(change)
        r = ctx.api("POST", "/api/v1/requests", {"kind": "access", "requester": requester})
        expect(f, f"C api {change}", r.status == 422, f"answered {r.status}")
    r = ctx.api("POST", "/api/v1/requests", {"kind": "access", "requester": {"name": "C", "email": "c@example.fr"}, "details": "a\0b"})
    expect(f, "C details", r.status == 422, f"answered {r.status}")
    filed = ctx.file().json()
    rid = filed["id"]
    for path, body in [
        ("messages", {"body": "\0"}),
        ("extension", {"months": 1, "reason": "\0"}),
        ("events", {"type": "hold", "reason": "clarification", "note": "\0"}),
    ]:
        r = ctx.api("POST", f"/api/v1/requests/{rid}/{path}", body)
        expect(f, f"C {path}", r.status == 422, f"answered {r.status}")
    c = ctx.client()
    csrf = c.csrf("/en/request/access")
    r = c.multipart("/en/request/access", [("csrf", csrf), ("name", "A\0"), ("email", "a@example.fr"), ("country", "FR"), ("acting", "self"), ("access_scope", "all")])
    expect(f, "C portal", r.status == 422, f"answered {r.status}")
    staff = ctx.staff()
    for path in ("/admin?q=%00", "/admin/audit?action=%00", f"/admin/requests/{filed['reference']}%00"):
        r = staff.get(path)
        expect(f, f"C {path}", r.status < 500, f"answered {r.status}")
    csrf = staff.csrf(f"/admin/requests/{filed['reference']}")
    r = staff.form(f"/admin/requests/{filed['reference']}/action", {"csrf": csrf, "action": "hold", "reason": "clarification", "text": "quoi ?\0"})
    # The request page again with the reason in words (never the database's error text).
    expect(f, "C hold", r.status == 422 and "invalid byte" not in r.text().lower() and "error-summary" in r.text(), f"{r.status} {r.text()[:100]}")
    for email in ("a\0@example.org", "\0"):
        c = ctx.client()
        csrf = c.csrf("/admin/login")
        r = c.form("/admin/login", {"csrf": csrf, "email": email, "password": "x"})
        expect(f, "C sign-in", r.status in (200, 401, 422, 429), f"answered {r.status}")
        csrf = c.csrf("/admin/password-reset")
        r = c.form("/admin/password-reset", {"csrf": csrf, "email": email})
        expect(f, "C reset", r.status < 500, f"answered {r.status}")
    return f, ""


def case_d_malformed_status_posts(ctx):
    """D: malformed posts to the status page's forms: 4xx, and the token never in the log."""
    f = []
    c, link = ctx.requester_link()
    csrf = c.csrf(link)
    token = link.rsplit("/", 1)[1]
    bodies = [
        ("field over 64 KiB", [("csrf", csrf), ("body", "x" * 70_000)]),
        ("not UTF-8", [("csrf", csrf), ("body", b"\xff\xfe\xfa")]),
        ("70 fields", [("csrf", csrf)] + [(f"f{i}", "x") for i in range(70)]),
    ]
    for label, parts in bodies:
        r = c.multipart(f"{link}/message", parts)
        expect(f, f"D {label}", 400 <= r.status < 500, f"answered {r.status}")
    r = c.form(f"{link}/message", {"csrf": csrf, "body": "url-encoded"})
    expect(f, "D url-encoded", 400 <= r.status < 500 or r.status == 303, f"answered {r.status}")
    # A truncated multipart body: the boundary never closes.
    r = c.request("POST", f"{link}/message", body=b"--b\r\nContent-Disposition: form-data; name=\"body\"\r\n\r\nhal", headers={"Content-Type": "multipart/form-data; boundary=b"})
    expect(f, "D truncated", 400 <= r.status < 500, f"answered {r.status}")
    r = c.request("POST", f"{link}/message", body=b"x", headers={"Content-Type": "multipart/form-data"})
    expect(f, "D no boundary", 400 <= r.status < 500, f"answered {r.status}")
    # A one-letter boundary and a line "--": actix-multipart 0.7 panicked on it (fuzz/run).
    r = c.request("POST", f"{link}/message", body=b"--\n--a--\r\n", headers={"Content-Type": "multipart/form-data; boundary=a"})
    expect(f, "D short boundary", 400 <= r.status < 500, f"answered {r.status}")
    time.sleep(0.3)
    with open(f"{ctx.server.dir}/server.log", "rb") as log:
        leaked = token.encode() in log.read()
    expect(f, "D token in log", not leaked, "the requester's link token is in the server's log")
    return f, ""


def case_e_next(ctx):
    """E: CR/LF and foreign addresses in the sign-in's `next`."""
    f = []
    for nxt in ("/admin\r\nSet-Cookie: x=y", "//evil.example/", "https://evil.example/", "/admin/%0d%0aX: y", "javascript:alert(1)"):
        c = ctx.client()
        csrf = c.csrf("/admin/login")
        r = c.form("/admin/login", {"csrf": csrf, "email": ctx.staff_email, "password": ctx.password, "next": nxt})
        loc = r.header("location")
        expect(f, f"E {nxt!r}", r.status == 303 and loc.startswith("/") and not loc.startswith("//") and "\r" not in loc and "\n" not in loc, f"{r.status} {loc!r}")
    return f, ""


def case_f_unknown_ids(ctx):
    """F: unknown document ids and request references."""
    f = []
    staff = ctx.staff()
    filed = ctx.file().json()
    ref = filed["reference"]
    csrf = staff.csrf(f"/admin/requests/{ref}")
    for doc in ("999999", "-1", "abc", "99999999999999999999"):
        r = staff.form(f"/admin/requests/{ref}/action", {"csrf": csrf, "action": "identity", "document": doc, "decision": "accept"})
        expect(f, f"F identity {doc}", 300 <= r.status < 500, f"answered {r.status}")
        r = staff.get(f"/admin/documents/{doc}")
        expect(f, f"F document {doc}", 400 <= r.status < 500, f"answered {r.status}")
    for path in ("/admin/requests/DSAR-2099-999999", "/admin/requests/x", "/fr/r/" + "A" * 43, "/fr/r/x/files/1", "/api/v1/requests/00000000-0000-0000-0000-000000000000"):
        r = staff.get(path) if path.startswith("/admin") else ctx.api("GET", path) if path.startswith("/api") else ctx.client().get(path)
        expect(f, f"F {path}", r.status == 404, f"answered {r.status}")
    return f, ""


def case_g_sign_out(ctx):
    """G: a copy of the session cookie stops working once its session signed out."""
    f = []
    staff = ctx.staff()
    copy = dict(staff.cookies)
    csrf = staff.csrf("/admin")
    r = staff.form("/admin/logout", {"csrf": csrf})
    expect(f, "G sign out", r.status == 303, f"answered {r.status}")
    thief = ctx.client()
    thief.cookies = copy
    r = thief.get("/admin")
    expect(f, "G replay", r.status in (303, 401) or "password" in r.text().lower() and "queue" not in r.text().lower(), f"answered {r.status}")
    return f, ""


def case_h_dates(ctx):
    """H: received_at from another age, or the far future."""
    f = []
    for at in ("0001-01-01T00:00:00Z", "1582-10-04T00:00:00Z", "1999-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "+275760-09-13T00:00:00Z", "2025-02-30T00:00:00Z"):
        r = ctx.api("POST", "/api/v1/requests", {"kind": "access", "requester": {"name": "Camille", "email": "c@example.fr"}, "received_at": at})
        expect(f, f"H {at}", r.status in (400, 422), f"answered {r.status}")
    return f, ""


PNG_HEAD = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0\x90wS\xde"


def case_i_polyglots(ctx):
    """I: documents that are something else underneath."""
    f = []
    docs = {
        "png-html.png": PNG_HEAD + b"<html><script>alert(document.cookie)</script></html>",
        "js.pdf": b"%PDF-1.4\n1 0 obj<</Type/Catalog/OpenAction<</S/JavaScript/JS(app.alert(1))>>>>endobj\n%%EOF\n",
        "js-hex.pdf": b"%PDF-1.4\n1 0 obj<</S/#4Aava#53cript/JS(x)>>endobj\n%%EOF\n",
        "launch.pdf": b"%PDF-1.4\n1 0 obj<</S/Launch/F(cmd.exe)>>endobj\n%%EOF\n",
        "embedded.pdf": b"%PDF-1.4\n1 0 obj<</Type/EmbeddedFile>>endobj\n%%EOF\n",
        "jpeg-text.jpg": b"\xff\xd8\xff\xe0\0\x10JFIF\0" + b"<html>hello</html>" * 10,
        "html.pdf": b"<html><body>hi</body></html>",
    }
    for name, content in docs.items():
        c, link = ctx.requester_link()
        csrf = c.csrf(link)
        r = c.multipart(f"{link}/identity", [("csrf", csrf), ("document", name, content)])
        expect(f, f"I {name}", r.status in (400, 413, 422), f"answered {r.status}")
    return f, ""


def case_j_resets(ctx):
    """J: ten password resets, then the same address files a request."""
    f = []
    c = ctx.client()
    for _ in range(12):
        csrf = c.csrf("/admin/password-reset")
        c.form("/admin/password-reset", {"csrf": csrf, "email": ctx.staff_email})
    p = Client(ctx.port, ip=c.ip)
    csrf = p.csrf("/fr/request/access")
    r = p.multipart("/fr/request/access", [("csrf", csrf), ("name", "Camille Martin"), ("email", "j@example.fr"), ("country", "FR"), ("acting", "self"), ("access_scope", "all")])
    expect(f, "J filing after resets", r.status == 303, f"answered {r.status}")
    return f, ""


def case_api_edges(ctx):
    """The API: unknown versions, bad bodies, bad queries, no key."""
    f = []
    for path in ("/api/v2/requests", "/api", "/api/", "/api/v1", "/api/v1/nothing"):
        r = ctx.api("GET", path)
        expect(f, f"api {path}", r.status == 404 and "problem+json" in r.header("content-type"), f"{r.status} {r.header('content-type')}")
    cases = [
        ("10 MB body", b"{" + b" " * (10 * MIB) + b"}", (413,)),
        ("deep nesting", b"[" * 100_000 + b"]" * 100_000, (400, 413, 422)),
        ("not UTF-8", b'{"kind":"\xff"}', (400, 422)),
        ("not JSON", b"kind=access", (400,)),
        ("null", b"null", (400, 422)),
        ("huge number", b'{"kind":"access","requester":{"name":"A","email":"a@example.fr"},"received_at":1e999}', (400, 422)),
        ("duplicate keys", b'{"kind":"access","kind":"erasure","requester":{"name":"A","email":"a@example.fr"}}', (201, 400, 422)),
    ]
    for label, raw, ok in cases:
        r = ctx.api("POST", "/api/v1/requests", raw=raw)
        expect(f, f"api {label}", r.status in ok, f"answered {r.status}")
    r = ctx.api("POST", "/api/v1/requests", raw=b"{}", headers={"Content-Type": "text/plain"})
    expect(f, "api content type", r.status == 415, f"answered {r.status}")
    for q in ("limit=-1", "limit=99999999999999999999", "cursor=%00", "status=%00", "kind=../../", "limit=abc"):
        r = ctx.api("GET", f"/api/v1/requests?{q}")
        expect(f, f"api ?{q}", 400 <= r.status < 500, f"answered {r.status}")
    r = ctx.client().get("/api/v1/requests")
    expect(f, "api no key", r.status == 401, f"answered {r.status}")
    r = ctx.client().request("GET", "/api/v1/requests", headers={"Authorization": "Bearer " + "x" * 10_000})
    expect(f, "api long key", r.status in (400, 401, 431), f"answered {r.status}")
    r = ctx.api("DELETE", "/api/v1/requests")
    expect(f, "api DELETE", r.status in (404, 405), f"answered {r.status}")
    return f, ""


def case_http_edges(ctx):
    """HTTP itself: long headers and URLs, traversal, slow clients."""
    f = []
    c = ctx.client()
    for size in (100_000, 4 * MIB):
        r = c.request("GET", "/fr/", headers={"X-Big": "a" * size})
        expect(f, f"http header of {size} bytes", r.status in (0, 200, 400, 431), f"answered {r.status}")
    r = c.get("/fr/" + "a" * 60_000)
    expect(f, "http long URL", r.status in (0, 400, 404, 414), f"answered {r.status}")
    for path in ("/static/../Cargo.toml", "/static/%2e%2e/%2e%2e/etc/passwd", "/fr/r/..%2f..%2fetc", "/%00", "/fr/request/%00", "/admin/documents/%2e%2e"):
        r = c.get(path)
        expect(f, f"http {path}", r.status in (303, 400, 404), f"answered {r.status}")
        expect(f, f"http {path} leaks", b"root:" not in r.body and b"[package]" not in r.body, "a file outside the site")
    # Twenty clients that send their headers one byte a second: the site stays quick.
    slow = []
    for _ in range(20):
        s = socket.create_connection(("127.0.0.1", ctx.port), timeout=10)
        s.sendall(b"GET /fr/ HTTP/1.1\r\nHost: x\r\n")
        slow.append(s)
    started = time.time()
    status, _ = raw_get(ctx.port, "/healthz")
    took = time.time() - started
    Client(ctx.port).count(status, "GET", "/healthz while slow clients hang")
    expect(f, "http slow clients", status == 200 and took < 1, f"{status} in {took:.2f} s")
    for s in slow:
        s.close()
    return f, f"health in {took * 1000:.0f} ms beside 20 slow clients"


def case_l_cli(ctx):
    """L: the command line exits cleanly, call after call."""
    f = []
    calls = ctx.server.args.cli_calls
    failed = 0
    for _ in range(calls):
        out = subprocess.run([ctx.server.args.binary, "api-key", "list"], env=ctx.server.env, cwd=ctx.server.dir, capture_output=True, timeout=60)
        failed += out.returncode != 0
    expect(f, "L cli", failed == 0, f"{failed} of {calls} calls failed")
    return f, f"{calls} calls of `dsar api-key list`, {failed} failed"


CASES = [
    case_a_big_multipart,
    case_a_status_forms,
    case_c_nul_bytes,
    case_d_malformed_status_posts,
    case_e_next,
    case_f_unknown_ids,
    case_g_sign_out,
    case_h_dates,
    case_i_polyglots,
    case_j_resets,
    case_api_edges,
    case_http_edges,
    case_l_cli,
    # Last: it leaves the staff account throttled for a while.
    case_b_parallel_guesses,
]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--binary", default="target/release/dsar")
    p.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    p.add_argument("--postgres-url", default=os.environ.get("DSAR_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test"))
    p.add_argument("--max-rss-mib", type=float, default=64)
    p.add_argument("--cli-calls", type=int, default=30)
    p.add_argument("--only", help="run the cases whose name contains this")
    p.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = p.parse_args()
    args.binary = os.path.abspath(args.binary)

    server = Server(args)
    failures = []
    started = time.time()
    try:
        api_key = server.cli("api-key", "create", "--name", "hostile").strip().splitlines()[-1]
        staff_email = "dpo@example.org"
        invite = server.cli("user", "add", staff_email, "--role", "dpo", "--name", "Dana Lefèvre")
        link = re.search(r"(/admin/password/[A-Za-z0-9_-]+)", invite).group(1)
        server.start()
        password = "correct horse battery staple"
        c = Client(server.port)
        csrf = c.csrf(link)
        r = c.form(link, {"csrf": csrf, "password": password, "confirm": password})
        if r.status not in (200, 303):
            raise SystemExit(f"setting the staff password answered {r.status}")
        ctx = Context(server, api_key, staff_email, password)
        idle = server.rss_mib()
        print(f"dsar hostile-input run: {args.backend}, {args.binary}, idle RSS {idle:.1f} MiB")
        for case in CASES:
            if args.only and args.only not in case.__name__:
                continue
            before = Client.sent
            t0 = time.time()
            try:
                failed, note = case(ctx)
            except Exception as e:  # a case that cannot run is a failure, said as such
                failed, note = [f"{case.__name__} could not run: {e!r}"], ""
            failures += failed
            mark = "ok  " if not failed else "FAIL"
            print(f"  {mark} {case.__name__[5:]:<28} {Client.sent - before:>4} requests {time.time() - t0:6.1f} s  {note}")
            for line in failed:
                print(f"         - {line}")
    finally:
        server.stop()
    peak = server.peak_rss_kib / 1024
    print(f"requests: {Client.sent}; server errors (5xx): {len(Client.errors)}; failed expectations: {len(failures)}; peak RSS {peak:.1f} MiB; {time.time() - started:.0f} s")
    for e in Client.errors[:20]:
        print(f"  5xx: {e}")
    if Client.errors or failures or peak > args.max_rss_mib:
        if peak > args.max_rss_mib:
            print(f"peak RSS {peak:.1f} MiB is over {args.max_rss_mib} MiB")
        sys.exit(1)


if __name__ == "__main__":
    main()
