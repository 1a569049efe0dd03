"""A fake Hugging Face Hub on 127.0.0.1 for tests of ``hf://`` presets: bounded, stops by itself.

It answers the HTTP API calls ``huggingface_hub`` (2.x) makes to download files
(``HEAD``/``GET /{repo}/resolve/{revision}/{file}``, with the ``X-Repo-Commit``, ``ETag``,
``X-Linked-Etag`` and ``Content-Length`` headers ``file_download`` reads, and the
``X-Error-Code`` of a missing repository, revision or file), to read a repository's revision
(``GET /api/models/{repo}/revision/{revision}``) and to push a folder (``POST
/api/repos/create``, ``/api/validate-yaml``, ``/api/models/{repo}/preupload/{revision}``,
answered ``uploadMode: "regular"`` for every file so nothing goes through LFS or Xet, and
``/api/models/{repo}/commit/{revision}``, whose ndjson body carries the files base64-encoded).
"""

import base64
import contextlib
import hashlib
import http.server
import json
import threading
import urllib.parse
from types import SimpleNamespace

from tests.servers import LIFETIME_S

LFS_SUFFIXES = (".h5", ".npz")
"""Files served as the Hub serves LFS files: with ``X-Linked-Etag`` and ``X-Linked-Size``."""


class FakeHub:
    """The repositories of the fake Hub: each has commits (``{"sha", "message", "files"}``,
    files ``{path: bytes}``) and refs (``{"main": sha, ...}``). Thread-safe."""

    def __init__(self):
        self.repos = {}
        self.requests = []  # (method, path, headers: lower-case names) of every request
        self.lock = threading.Lock()

    def create(self, repo_id, private=False):
        """Create an empty repository (its ``main`` branch has no commit yet)."""
        with self.lock:
            self.repos[repo_id] = {"private": private, "commits": {}, "refs": {}}

    def commit(self, repo_id, files, branch="main", message="commit"):
        """Commit ``files`` (``{path: bytes}``, replacing those of the same path) on ``branch``
        of ``repo_id`` (created if needed); returns the commit's sha (40 hex digits)."""
        if repo_id not in self.repos:
            self.create(repo_id)
        with self.lock:
            repo = self.repos[repo_id]
            parent = repo["refs"].get(branch)
            tree = dict(repo["commits"][parent]["files"]) if parent else {}
            tree.update(files)
            digest = hashlib.sha1(f"{repo_id}\n{parent}\n{len(repo['commits'])}".encode())
            for path in sorted(tree):
                digest.update(path.encode() + hashlib.sha256(tree[path]).digest())
            sha = digest.hexdigest()
            repo["commits"][sha] = {"sha": sha, "message": message, "files": tree}
            repo["refs"][branch] = sha
            return sha

    def tag(self, repo_id, name, sha):
        """Point the ref ``name`` (a tag or branch) of ``repo_id`` at commit ``sha``."""
        with self.lock:
            self.repos[repo_id]["refs"][name] = sha

    def files(self, repo_id, revision="main"):
        """``{path: bytes}`` of ``repo_id`` at ``revision``."""
        return self.repos[repo_id]["commits"][self.resolve(repo_id, revision)]["files"]

    def resolve(self, repo_id, revision):
        """The commit sha ``revision`` (a ref or a sha) names in ``repo_id``, or None."""
        repo = self.repos[repo_id]
        if revision in repo["refs"]:
            return repo["refs"][revision]
        return revision if revision in repo["commits"] else None


def _handler(hub, base_url):
    """The request handler class serving ``hub``."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_HEAD(self):
            self._record()
            self._route("HEAD")

        def do_GET(self):
            self._record()
            self._route("GET")

        def do_POST(self):
            self._record()
            length = int(self.headers.get("Content-Length") or 0)
            self.body = self.rfile.read(length)
            self._route("POST")

        def _record(self):
            headers = {key.lower(): value for key, value in self.headers.items()}
            hub.requests.append((self.command, self.path, headers))

        def _route(self, method):
            path = urllib.parse.urlsplit(self.path).path
            parts = [urllib.parse.unquote(p) for p in path.strip("/").split("/")]
            if method == "POST" and parts == ["api", "repos", "create"]:
                return self._create()
            if method == "POST" and parts == ["api", "validate-yaml"]:
                return self._json(200, {"errors": [], "warnings": []})
            if len(parts) == 6 and parts[:2] == ["api", "models"]:
                repo_id, action, revision = "/".join(parts[2:4]), parts[4], parts[5]
                if method == "POST" and action == "preupload":
                    return self._preupload(repo_id)
                if method == "POST" and action == "commit":
                    return self._commit(repo_id, revision)
                if method == "GET" and action == "revision":
                    return self._revision(repo_id, revision)
            if len(parts) >= 5 and parts[2] == "resolve" and method in ("GET", "HEAD"):
                return self._resolve("/".join(parts[:2]), parts[3], "/".join(parts[4:]))
            return self._json(404, {"error": f"no route {method} {path}"})

        def _json(self, status, data, headers=()):
            body = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for key, value in headers:
                self.send_header(key, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _missing(self, code, message, headers=()):
            errors = [("X-Error-Code", code), ("X-Error-Message", message), *headers]
            return self._json(404, {"error": message}, errors)

        def _repo_commit(self, repo_id, revision):
            """The commit ``revision`` names, else None with a 404 sent."""
            if repo_id not in hub.repos:
                self._missing("RepoNotFound", "Repository not found")
                return None
            sha = hub.resolve(repo_id, revision)
            if sha is None:
                self._missing("RevisionNotFound", "Invalid rev id: " + revision)
            return sha

        def _resolve(self, repo_id, revision, filename):
            sha = self._repo_commit(repo_id, revision)
            if sha is None:
                return
            files = hub.repos[repo_id]["commits"][sha]["files"]
            if filename not in files:
                return self._missing("EntryNotFound", "Entry not found", [("X-Repo-Commit", sha)])
            body = files[filename]
            etag = f'"{hashlib.sha256(body).hexdigest()}"'
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-Repo-Commit", sha)
            self.send_header("ETag", etag)
            if filename.endswith(LFS_SUFFIXES):
                self.send_header("X-Linked-Etag", etag)
                self.send_header("X-Linked-Size", str(len(body)))
            self.end_headers()
            if self.command == "GET":
                self.wfile.write(body)

        def _revision(self, repo_id, revision):
            sha = self._repo_commit(repo_id, revision)
            if sha is None:
                return
            files = hub.repos[repo_id]["commits"][sha]["files"]
            return self._json(
                200,
                {
                    "id": repo_id,
                    "sha": sha,
                    "private": hub.repos[repo_id]["private"],
                    "siblings": [{"rfilename": name} for name in sorted(files)],
                },
            )

        def _create(self):
            payload = json.loads(self.body or b"{}")
            repo_id = f"{payload['organization']}/{payload['name']}"
            url = f"{base_url}/{repo_id}"
            if repo_id in hub.repos:
                return self._json(409, {"error": "You already created this model repo", "url": url})
            private = payload.get("visibility") == "private" or bool(payload.get("private"))
            hub.create(repo_id, private=private)
            return self._json(200, {"url": url, "name": repo_id})

        def _preupload(self, repo_id):
            if repo_id not in hub.repos:
                return self._missing("RepoNotFound", "Repository not found")
            files = json.loads(self.body)["files"]
            answer = [
                {"path": f["path"], "uploadMode": "regular", "shouldIgnore": False, "oid": None}
                for f in files
            ]
            return self._json(200, {"files": answer, "commitOid": None})

        def _commit(self, repo_id, revision):
            if repo_id not in hub.repos:
                return self._missing("RepoNotFound", "Repository not found")
            message, files = "", {}
            for line in self.body.decode().splitlines():
                item = json.loads(line)
                if item["key"] == "header":
                    message = item["value"]["summary"]
                elif item["key"] == "file":
                    value = item["value"]
                    files[value["path"]] = base64.b64decode(value["content"])
                else:
                    return self._json(400, {"error": f"unsupported commit entry {item['key']}"})
            sha = hub.commit(repo_id, files, branch=revision, message=message)
            url = f"{base_url}/{repo_id}/commit/{sha}"
            return self._json(200, {"commitUrl": url, "commitOid": sha, "success": True})

    return Handler


@contextlib.contextmanager
def local_hub_server():
    """Serve a :class:`FakeHub` at ``http://127.0.0.1:<free port>`` for at most
    ``tests.servers.LIFETIME_S`` seconds. Yields ``SimpleNamespace(url, hub)``."""
    hub = FakeHub()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), None)
    url = f"http://127.0.0.1:{server.server_port}"
    server.RequestHandlerClass = _handler(hub, url)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    stopper = threading.Timer(LIFETIME_S, server.shutdown)
    stopper.daemon = True
    stopper.start()
    try:
        yield SimpleNamespace(url=url, hub=hub)
    finally:
        stopper.cancel()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
