"""A small Hub-protocol HTTP server for tests: the real ``huggingface_hub`` and ``datasets`` clients push to it and
load from it over HTTP on 127.0.0.1, with ``HF_ENDPOINT`` pointing at it.

It speaks the subset of the Hub protocol those clients use (huggingface/huggingface_hub:src/huggingface_hub/hf_api.py):
repo create (with ``private``), ``whoami-v2``, ``validate-yaml``, ``preupload`` (every file is ``regular``, so the
client sends contents inline, base64, in the commit), ``commit`` (NDJSON: files and deletions, on a branch), repo info
with ``sha`` and ``siblings``, ``tree``, ``paths-info`` and ``resolve`` (GET and HEAD, with ETag, X-Repo-Commit,
Content-Length and byte ranges), and git refs: ``branch`` (create from a starting point, delete), ``tag`` (create on
a revision, delete), ``refs`` (branches and tags) and ``commits`` (a revision's history). It stores what it is sent,
on disk under ``root``, as immutable commits over content-addressed blobs (git blob ids); every read takes a
revision that is a branch, a tag or a full commit sha, and an unknown one is 404 ``RevisionNotFound``. Private repos
exist only for their owner's token: anonymous requests get 401 and other users 404, both with ``X-Error-Code:
RepoNotFound``, as on the Hub.

Simplifications: any valid token may create repos in any namespace; only the creator may write; commits go to
branches only; no short shas, no LFS/Xet storage, no pull requests (``refs`` lists none), no pagination. Requests
are logged in memory (method, path, status, user; never headers) in ``HubServer.requests``, the paths each commit
added or deleted in ``HubServer.commits``; routes it does not know land in ``HubServer.unhandled``.

Run it by hand with ``python tests/hub_server.py --root DIR [--port N]``.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import ipaddress
import json
import os
import re
import sys
import tempfile
import threading
from datetime import datetime
from datetime import timezone
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs
from urllib.parse import unquote
from urllib.parse import urlsplit

import yaml

#: Token → user name known to the server by default.
DEFAULT_TOKENS = {"hf_lampkitLocalHubWriteToken0001": "lampkit-tester", "hf_lampkitLocalHubOtherToken0002": "stranger"}
REPO_TYPES = ("model", "dataset", "space")
_URL_PREFIX = {"model": "", "dataset": "datasets/", "space": "spaces/"}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")
_YAML_BLOCK = re.compile(r"\A\s*---\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.S)
_SHA = re.compile(r"[0-9a-f]{40}")
#: What git refuses in a ref name (``git check-ref-format``), plus what the Hub keeps for itself (``refs/...``).
_BAD_REF = re.compile(r"(^[-/.]|^refs/|\.\.|//|@\{|[\x00-\x20\x7f~^:?*\[\\]|/\.|\.lock$|\.lock/|[/.]$|^@$)")


class HubError(Exception):
    """An HTTP error answer: status, Hub error code (``X-Error-Code``) and message."""

    def __init__(self, status: int, message: str, code: str | None = None, headers: dict | None = None, **body):
        super().__init__(message)
        self.status, self.message, self.code, self.headers, self.body = status, message, code, headers or {}, body


def git_blob_id(content: bytes) -> str:
    """The git blob sha1 of ``content``: the oid the Hub gives regular files and the client compares against."""
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class HubStore:
    """Repos on disk: ``{type}s/{ns}/{name}/`` holds ``repo.json`` (owner, privacy, ``refs``: branch → sha,
    ``tags``: tag → sha), ``commits/{sha}.json`` (parent, author, message, date, ``files``: path → {oid, size}) and
    ``blobs/{oid}``."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.lock = threading.Lock()

    def _dir(self, repo_type: str, repo_id: str) -> Path:
        return self.root / f"{repo_type}s" / repo_id

    def meta(self, repo_type: str, repo_id: str) -> dict | None:
        path = self._dir(repo_type, repo_id) / "repo.json"
        return json.loads(path.read_text()) if path.exists() else None

    def _write_json(self, path: Path, data: dict) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
        os.replace(tmp, path)

    def create(self, repo_type: str, repo_id: str, owner: str, private: bool) -> bool:
        """Create an empty repo with one initial commit; False if it already exists."""
        with self.lock:
            if self.meta(repo_type, repo_id) is not None:
                return False
            sha = self._store_commit(repo_type, repo_id, None, "initial commit", "", {}, "system")
            now = _now()
            meta = {"owner": owner, "private": private, "createdAt": now, "lastModified": now, "refs": {"main": sha},
                    "tags": {}}
            self._write_json(self._dir(repo_type, repo_id) / "repo.json", meta)
            return True

    def _store_commit(self, repo_type, repo_id, parent, title, description, files, author) -> str:
        body = {"parent": parent, "title": title, "description": description, "date": _now(), "files": files,
                "author": author}
        sha = hashlib.sha1(json.dumps(body, sort_keys=True).encode()).hexdigest()
        self._write_json(self._dir(repo_type, repo_id) / "commits" / f"{sha}.json", body)
        return sha

    def resolve(self, repo_type: str, repo_id: str, revision: str) -> str | None:
        """The commit sha a branch, a tag or a full commit sha stands for (in that order, as on the Hub), or None."""
        meta = self.meta(repo_type, repo_id)
        for refs in (meta["refs"], meta.get("tags", {})):
            if revision in refs:
                return refs[revision]
        if _SHA.fullmatch(revision) and (self._dir(repo_type, repo_id) / "commits" / f"{revision}.json").exists():
            return revision
        return None

    def set_ref(self, repo_type: str, repo_id: str, kind: str, name: str, target: str | None) -> str:
        """Create (``target``: a revision) or delete (``target`` None) branch or tag ``name`` (``kind``: ``refs``
        or ``tags``); returns the commit sha it points (pointed) at."""
        with self.lock:
            meta = self.meta(repo_type, repo_id)
            refs = meta.setdefault(kind, {})
            if target is None:
                if name not in refs:
                    raise HubError(404, f"Invalid rev id: {name}", "RevisionNotFound")
                if kind == "refs" and name == "main":
                    raise HubError(403, "Cannot delete the default branch (main)")
                sha = refs.pop(name)
            else:
                if name in meta["refs"] or name in meta.get("tags", {}):
                    raise HubError(409, f"Reference already exists: {name}")
                sha = self.resolve(repo_type, repo_id, target)
                if sha is None:
                    raise HubError(404, f"Invalid rev id: {target}", "RevisionNotFound")
                refs[name] = sha
            meta["lastModified"] = _now()
            self._write_json(self._dir(repo_type, repo_id) / "repo.json", meta)
            return sha

    def history(self, repo_type: str, repo_id: str, sha: str) -> list[tuple[str, dict]]:
        """(sha, commit) from ``sha`` back to the initial commit, newest first."""
        out = []
        while sha is not None:
            commit = self.commit(repo_type, repo_id, sha)
            out.append((sha, commit))
            sha = commit["parent"]
        return out

    def commit(self, repo_type: str, repo_id: str, sha: str) -> dict:
        return json.loads((self._dir(repo_type, repo_id) / "commits" / f"{sha}.json").read_text())

    def blob(self, repo_type: str, repo_id: str, oid: str) -> Path:
        return self._dir(repo_type, repo_id) / "blobs" / oid

    def apply(self, repo_type, repo_id, branch, title, description, parent_commit, ops, author) -> str:
        """Apply ``ops`` (``("add", path, bytes)``, ``("delete", path)``, ``("delete_folder", path)``) on top of
        ``branch`` as one new commit by ``author``; returns its sha."""
        with self.lock:
            meta = self.meta(repo_type, repo_id)
            if branch not in meta["refs"]:
                if self.resolve(repo_type, repo_id, branch) is not None:
                    raise HubError(400, f"Invalid rev id: {branch} is not a branch; commits go to a branch")
                raise HubError(404, f"Invalid rev id: {branch}", "RevisionNotFound")
            head = meta["refs"][branch]
            if parent_commit is not None and parent_commit != head:
                raise HubError(412, f"Parent commit {parent_commit} is not the head of {branch} ({head})")
            files = dict(self.commit(repo_type, repo_id, head)["files"])
            for op in ops:
                if op[0] == "add":
                    _, path, content = op
                    oid = git_blob_id(content)
                    blob = self.blob(repo_type, repo_id, oid)
                    if not blob.exists():
                        blob.parent.mkdir(parents=True, exist_ok=True)
                        tmp = blob.with_suffix(".tmp")
                        tmp.write_bytes(content)
                        os.replace(tmp, blob)
                    files[path] = {"oid": oid, "size": len(content)}
                elif op[0] == "delete":
                    if files.pop(op[1], None) is None:
                        raise HubError(404, f"A file with this name doesn't exist: {op[1]}", "EntryNotFound")
                else:
                    prefix = op[1].rstrip("/") + "/"
                    gone = [p for p in files if p.startswith(prefix)]
                    if not gone:
                        raise HubError(404, f"A folder with this name doesn't exist: {op[1]}", "EntryNotFound")
                    for path in gone:
                        del files[path]
            sha = self._store_commit(repo_type, repo_id, head, title, description, files, author)
            meta["refs"][branch] = sha
            meta["lastModified"] = _now()
            self._write_json(self._dir(repo_type, repo_id) / "repo.json", meta)
            return sha

    def last_commit(self, repo_type: str, repo_id: str, sha: str, path: str) -> dict:
        """The newest commit up to ``sha`` that changed ``path`` (a file or a folder), as the tree API gives it."""

        def state(files: dict):
            if path in files:
                return files[path]["oid"]
            return sorted((p, f["oid"]) for p, f in files.items() if p.startswith(path + "/"))

        commit = self.commit(repo_type, repo_id, sha)
        while commit["parent"] is not None:
            parent = self.commit(repo_type, repo_id, commit["parent"])
            if state(parent["files"]) != state(commit["files"]):
                break
            sha, commit = commit["parent"], parent
        return {"id": sha, "title": commit["title"], "date": commit["date"]}


def _folder_oid(files: dict, folder: str) -> str:
    inside = sorted((p, f["oid"]) for p, f in files.items() if p.startswith(folder + "/"))
    return hashlib.sha1(json.dumps(inside).encode()).hexdigest()


def _folders(files: dict) -> set[str]:
    return {"/".join(p.split("/")[:i]) for p in files for i in range(1, p.count("/") + 1)}


def _card_data(content: bytes) -> dict | None:
    match = _YAML_BLOCK.match(content.decode("utf-8", errors="replace"))
    if not match:
        return None
    data = yaml.safe_load(match.group(1))
    return data if isinstance(data, dict) else None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: HubServer

    def do_GET(self):
        self._dispatch()

    def do_HEAD(self):
        self._dispatch()

    def do_POST(self):
        self._dispatch()

    def do_PUT(self):
        self._dispatch()

    def do_DELETE(self):
        self._dispatch()

    def log_message(self, format, *args):  # the log is kept in memory (HubServer.requests), not on stderr
        pass

    # -- plumbing ---------------------------------------------------------------------------------------------

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
                if size == 0:
                    return b"".join(chunks)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _user(self) -> str | None:
        auth = self.headers.get("Authorization", "")
        if not auth:
            return None
        token = auth[len("Bearer "):] if auth.startswith("Bearer ") else ""
        if token not in self.server.tokens:
            raise HubError(401, "Invalid credentials in Authorization header")
        return self.server.tokens[token]

    def _send(self, status: int, body: bytes = b"", headers: dict | None = None, content_type="application/json"):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, data, status: int = 200, headers: dict | None = None):
        self._send(status, json.dumps(data).encode(), headers)

    def _dispatch(self):
        url = urlsplit(self.path)
        segments = [unquote(s) for s in url.path.split("/")[1:]]
        query = parse_qs(url.query)
        self._status, self._who = 0, None
        try:
            body = self._body()
            self._who = self._user()
            route = self._route(segments)
            if route is None:
                self.server.unhandled.append(f"{self.command} {self.path}")
                raise HubError(404, f"No route for {self.command} {url.path}")
            try:
                route(query, body)
            except (ValueError, KeyError, TypeError) as err:  # a malformed request body
                raise HubError(400, f"Malformed request: {type(err).__name__}: {err}") from err
        except HubError as err:
            headers = dict(err.headers)
            if err.code:
                headers["X-Error-Code"] = err.code
            headers["X-Error-Message"] = err.message
            self._status = err.status
            self._json({"error": err.message, **err.body}, err.status, headers)
        finally:
            self.server.requests.append(
                {"method": self.command, "path": self.path, "status": self._status, "user": self._who}
            )

    def send_response(self, code, message=None):
        self._status = code
        super().send_response(code, message)

    def _route(self, s: list[str]):
        """The handler ``(query, body) -> None`` for these path segments, or None."""
        if s[:1] == ["api"]:
            if s[1:] == ["repos", "create"] and self.command == "POST":
                return self._create
            if s[1:] == ["validate-yaml"] and self.command == "POST":
                return self._validate_yaml
            if s[1:] == ["whoami-v2"] and self.command == "GET":
                return self._whoami
            if len(s) >= 4 and s[1] in ("models", "datasets", "spaces"):
                repo_type, repo_id, rest = s[1][:-1], f"{s[2]}/{s[3]}", s[4:]
                if self.command == "GET" and (rest == [] or (len(rest) == 2 and rest[0] == "revision")):
                    return lambda q, b: self._info(repo_type, repo_id, rest[1] if rest else "main", q)
                if self.command == "GET" and len(rest) >= 2 and rest[0] == "tree":
                    return lambda q, b: self._tree(repo_type, repo_id, rest[1], "/".join(rest[2:]), q)
                if self.command == "POST" and len(rest) == 2 and rest[0] == "paths-info":
                    return lambda q, b: self._paths_info(repo_type, repo_id, rest[1], b)
                if self.command == "POST" and len(rest) == 2 and rest[0] == "preupload":
                    return lambda q, b: self._preupload(repo_type, repo_id, rest[1], b)
                if self.command == "POST" and len(rest) == 2 and rest[0] == "commit":
                    return lambda q, b: self._commit(repo_type, repo_id, rest[1], q, b)
                if self.command in ("POST", "DELETE") and len(rest) == 2 and rest[0] in ("branch", "tag"):
                    return lambda q, b: self._ref(repo_type, repo_id, rest[0], rest[1], b)
                if self.command == "GET" and rest == ["refs"]:
                    return lambda q, b: self._refs(repo_type, repo_id, q)
                if self.command == "GET" and len(rest) == 2 and rest[0] == "commits":
                    return lambda q, b: self._commits(repo_type, repo_id, rest[1])
            return None
        repo_type = {"datasets": "dataset", "spaces": "space"}.get(s[0] if s else "", "model")
        s = s[1:] if repo_type != "model" else s
        if len(s) >= 5 and s[2] == "resolve" and self.command in ("GET", "HEAD"):
            return lambda q, b: self._resolve(repo_type, f"{s[0]}/{s[1]}", s[3], "/".join(s[4:]))
        return None

    # -- access -----------------------------------------------------------------------------------------------

    def _readable(self, repo_type: str, repo_id: str) -> dict:
        meta = self.server.store.meta(repo_type, repo_id)
        if meta is None or (meta["private"] and self._who != meta["owner"]):
            status = 401 if self._who is None else 404
            raise HubError(status, "Repository not found", "RepoNotFound")
        return meta

    def _writable(self, repo_type: str, repo_id: str) -> dict:
        meta = self._readable(repo_type, repo_id)
        if self._who != meta["owner"]:
            raise HubError(403, f"You don't have the rights to write to {repo_type} {repo_id}")
        return meta

    def _commit_at(self, repo_type: str, repo_id: str, revision: str) -> str:
        self._readable(repo_type, repo_id)
        sha = self.server.store.resolve(repo_type, repo_id, revision)
        if sha is None:
            raise HubError(404, f"Invalid rev id: {revision}", "RevisionNotFound")
        return sha

    def _repo_url(self, repo_type: str, repo_id: str) -> str:
        return f"{self.server.url}/{_URL_PREFIX[repo_type]}{repo_id}"

    # -- endpoints --------------------------------------------------------------------------------------------

    def _create(self, query, body):
        if self._who is None:
            raise HubError(401, "You must be authenticated to create a repo")
        payload = json.loads(body)
        repo_type = payload.get("type") or "model"
        name, namespace = payload.get("name") or "", payload.get("organization") or self._who
        if repo_type not in REPO_TYPES or not _NAME.match(name) or not _NAME.match(namespace):
            raise HubError(400, f"Invalid repo type or name: {repo_type} {namespace}/{name}")
        private = payload.get("visibility") == "private" or bool(payload.get("private"))
        repo_id = f"{namespace}/{name}"
        url = self._repo_url(repo_type, repo_id)
        if not self.server.store.create(repo_type, repo_id, self._who, private):
            raise HubError(409, f"You already created this {repo_type} repo", url=url)
        self._json({"url": url, "name": repo_id})

    def _validate_yaml(self, query, body):
        payload = json.loads(body)
        try:
            data = _card_data(payload.get("content", "").encode())
        except yaml.YAMLError as err:
            raise HubError(400, "Invalid YAML in README.md") from err
        errors = []
        configs = (data or {}).get("configs", [])
        if not isinstance(configs, list) or not all(isinstance(c, dict) and "config_name" in c for c in configs):
            errors.append({"message": '"configs" must be a list of mappings, each with a "config_name"'})
        if errors:
            self._json({"errors": errors}, 400)
        else:
            self._json({"errors": [], "warnings": []})

    def _whoami(self, query, body):
        if self._who is None:
            raise HubError(401, "Invalid credentials in Authorization header")
        self._json({"type": "user", "name": self._who, "orgs": [], "auth": {"accessToken": {"role": "write"}}})

    def _info(self, repo_type, repo_id, revision, query):
        meta = self._readable(repo_type, repo_id)
        sha = self._commit_at(repo_type, repo_id, revision)
        files = self.server.store.commit(repo_type, repo_id, sha)["files"]
        with_sizes = query.get("blobs", ["false"])[0].lower() == "true"
        siblings = [
            {"rfilename": p, "blobId": f["oid"], **({"size": f["size"]} if with_sizes else {})}
            for p, f in sorted(files.items())
        ]
        info = {
            "id": repo_id,
            "author": repo_id.split("/")[0],
            "sha": sha,
            "private": meta["private"],
            "gated": False,
            "disabled": False,
            "createdAt": meta["createdAt"],
            "lastModified": meta["lastModified"],
            "tags": [],
            "downloads": 0,
            "likes": 0,
            "siblings": siblings,
        }
        if "README.md" in files:
            readme = self.server.store.blob(repo_type, repo_id, files["README.md"]["oid"]).read_bytes()
            try:
                card = _card_data(readme)
            except yaml.YAMLError:
                card = None
            if card is not None:
                info["cardData"] = card
        self._json(info)

    def _entry(self, repo_type, repo_id, sha, files, path, expand) -> dict:
        if path in files:
            entry = {"type": "file", "path": path, "oid": files[path]["oid"], "size": files[path]["size"]}
        else:
            entry = {"type": "directory", "path": path, "oid": _folder_oid(files, path), "size": 0}
        if expand:
            entry["lastCommit"] = self.server.store.last_commit(repo_type, repo_id, sha, path)
        return entry

    def _tree(self, repo_type, repo_id, revision, path, query):
        sha = self._commit_at(repo_type, repo_id, revision)
        files = self.server.store.commit(repo_type, repo_id, sha)["files"]
        recursive = query.get("recursive", ["false"])[0].lower() == "true"
        expand = query.get("expand", ["false"])[0].lower() == "true"
        path = path.strip("/")
        folders = _folders(files)
        if path and path not in folders:
            raise HubError(404, f"{path} does not exist on {revision}", "EntryNotFound", {"X-Repo-Commit": sha})
        prefix = path + "/" if path else ""
        names = sorted(p for p in folders | set(files) if p.startswith(prefix))
        if not recursive:
            names = [p for p in names if "/" not in p[len(prefix):]]
        self._json([self._entry(repo_type, repo_id, sha, files, p, expand) for p in names])

    def _paths_info(self, repo_type, repo_id, revision, body):
        sha = self._commit_at(repo_type, repo_id, revision)
        files = self.server.store.commit(repo_type, repo_id, sha)["files"]
        form = parse_qs(body.decode())
        expand = form.get("expand", ["false"])[0].lower() == "true"
        folders = _folders(files)
        paths = [p.strip("/") for p in form.get("paths", [])]
        self._json(
            [self._entry(repo_type, repo_id, sha, files, p, expand) for p in paths if p in files or p in folders]
        )

    def _preupload(self, repo_type, repo_id, revision, body):
        self._writable(repo_type, repo_id)
        sha = self._commit_at(repo_type, repo_id, revision)
        files = self.server.store.commit(repo_type, repo_id, sha)["files"]
        answer = [
            {
                "path": f["path"],
                "uploadMode": "regular",
                "shouldIgnore": False,
                "oid": files[f["path"]]["oid"] if f["path"] in files else None,
            }
            for f in json.loads(body)["files"]
        ]
        self._json({"files": answer, "commitOid": sha})

    def _commit(self, repo_type, repo_id, revision, query, body):
        self._writable(repo_type, repo_id)
        if query.get("create_pr", ["0"])[0] == "1":
            raise HubError(400, "This test server does not support pull requests")
        header, ops = None, []
        for line in body.decode().splitlines():
            if not line.strip():
                continue
            item = json.loads(line)
            key, value = item.get("key"), item.get("value", {})
            if key == "header":
                header = value
            elif key == "file":
                if value.get("encoding") != "base64":
                    raise HubError(400, f"Unsupported encoding for {value.get('path')}")
                ops.append(("add", value["path"], base64.b64decode(value["content"])))
            elif key == "deletedFile":
                ops.append(("delete", value["path"]))
            elif key == "deletedFolder":
                ops.append(("delete_folder", value["path"]))
            else:
                raise HubError(400, f"Unsupported commit operation {key!r} (this server stores regular files only)")
        if header is None or not header.get("summary"):
            raise HubError(400, "A commit needs a header with a summary")
        sha = self.server.store.apply(
            repo_type, repo_id, revision, header["summary"], header.get("description", ""),
            header.get("parentCommit"), ops, self._who,
        )
        self.server.commits.append({
            "repo": f"{repo_type}s/{repo_id}",
            "sha": sha,
            "added": [op[1] for op in ops if op[0] == "add"],
            "deleted": [op[1] for op in ops if op[0] != "add"],
        })
        url = f"{self._repo_url(repo_type, repo_id)}/commit/{sha}"
        self._json({"success": True, "commitOid": sha, "commitUrl": url})

    def _ref(self, repo_type, repo_id, kind, name, body):
        """``POST branch/{name}`` (JSON ``startingPoint``, default ``main``), ``POST tag/{revision}`` (JSON ``tag``,
        ``message``), ``DELETE branch/{name}``, ``DELETE tag/{name}``."""
        self._writable(repo_type, repo_id)
        store = self.server.store
        if self.command == "DELETE":
            store.set_ref(repo_type, repo_id, "refs" if kind == "branch" else "tags", name, None)
            self._json({})
            return
        payload = json.loads(body) if body.strip() else {}
        if kind == "branch":
            new, target = name, payload.get("startingPoint") or "main"
        else:
            new, target = payload["tag"], name
        if not isinstance(new, str) or not new or _BAD_REF.search(new) or _SHA.fullmatch(new):
            raise HubError(400, f"Invalid reference for a {kind}: {new!r}")
        store.set_ref(repo_type, repo_id, "refs" if kind == "branch" else "tags", new, target)
        self._json({})

    def _refs(self, repo_type, repo_id, query):
        meta = self._readable(repo_type, repo_id)

        def listing(refs: dict, prefix: str) -> list[dict]:
            return [{"name": n, "ref": f"{prefix}{n}", "targetCommit": sha} for n, sha in sorted(refs.items())]

        answer = {"branches": listing(meta["refs"], "refs/heads/"), "converts": [],
                  "tags": listing(meta.get("tags", {}), "refs/tags/")}
        if query.get("include_prs", ["0"])[0] == "1":
            answer["pullRequests"] = []
        self._json(answer)

    def _commits(self, repo_type, repo_id, revision):
        sha = self._commit_at(repo_type, repo_id, revision)
        self._json([
            {"id": c_sha, "title": c["title"], "message": c["description"], "date": c["date"],
             "authors": [{"user": c.get("author") or "system"}]}
            for c_sha, c in self.server.store.history(repo_type, repo_id, sha)
        ])

    def _resolve(self, repo_type, repo_id, revision, path):
        sha = self._commit_at(repo_type, repo_id, revision)
        files = self.server.store.commit(repo_type, repo_id, sha)["files"]
        if path not in files:
            raise HubError(404, "Entry not found", "EntryNotFound", {"X-Repo-Commit": sha})
        oid = files[path]["oid"]
        content = self.server.store.blob(repo_type, repo_id, oid).read_bytes()
        headers = {"ETag": f'"{oid}"', "X-Repo-Commit": sha, "Accept-Ranges": "bytes"}
        status = 200
        ranged = re.fullmatch(r"bytes=(\d*)-(\d*)", self.headers.get("Range", ""))
        if ranged and (ranged.group(1) or ranged.group(2)):
            size = len(content)
            if ranged.group(1):
                start, end = int(ranged.group(1)), int(ranged.group(2) or size - 1)
            else:
                start, end = max(size - int(ranged.group(2)), 0), size - 1
            if start >= size:
                raise HubError(416, "Requested range not satisfiable", headers={"Content-Range": f"bytes */{size}"})
            end = min(end, size - 1)
            headers["Content-Range"] = f"bytes {start}-{end}/{size}"
            content, status = content[start : end + 1], 206
        self._send(status, content, headers, content_type="application/octet-stream")


class HubServer(ThreadingHTTPServer):
    """The server; ``start()`` serves from a daemon thread, ``url`` is its endpoint (``HF_ENDPOINT``)."""

    daemon_threads = True

    def __init__(self, root: Path, port: int = 0, tokens: dict[str, str] | None = None):
        super().__init__(("127.0.0.1", port), _Handler)
        self.store = HubStore(root)
        self.tokens = dict(DEFAULT_TOKENS if tokens is None else tokens)
        self.requests: list[dict] = []
        self.unhandled: list[str] = []
        self.commits: list[dict] = []
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        self._thread: threading.Thread | None = None

    def start(self) -> HubServer:
        self._thread = threading.Thread(target=self.serve_forever, args=(0.05,), name="local-hub", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        if self._thread is not None:
            self._thread.join()


class NetworkGuard:
    """While entered, this process refuses every host lookup and connection to a host that is not loopback (an
    ``OSError`` raised from a ``sys.addaudithook`` hook, before any packet leaves); each refused host is appended to
    ``blocked`` of the innermost guard and, if it has a ``log_path``, to that file (so attempts that a library
    swallows still show)."""

    _active: list[NetworkGuard] = []
    _installed = False

    def __init__(self, log_path: str | Path | None = None):
        self.log_path = Path(log_path) if log_path else None
        self.blocked: list[str] = []

    def __enter__(self) -> NetworkGuard:
        if not NetworkGuard._installed:
            sys.addaudithook(_audit)
            NetworkGuard._installed = True
        NetworkGuard._active.append(self)
        return self

    def __exit__(self, *exc) -> None:
        NetworkGuard._active.remove(self)

    def refuse(self, host: str) -> None:
        self.blocked.append(host)
        if self.log_path is not None:
            with open(self.log_path, "a", encoding="utf-8") as log:
                log.write(host + "\n")


def _is_loopback(host) -> bool:
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    if host in (None, "", "localhost"):
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def _audit(event: str, args: tuple) -> None:
    if not NetworkGuard._active:
        return
    if event in ("socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyaddr"):
        host = args[0]
    elif event in ("socket.connect", "socket.sendto") and isinstance(args[1], tuple):
        host = args[1][0]
    else:
        return
    if not _is_loopback(host):
        NetworkGuard._active[-1].refuse(str(host))  # the innermost guard owns the refusal
        raise ConnectionRefusedError(f"network access to {host!r} refused: tests may only reach 127.0.0.1")


def main(argv: list[str] | None = None) -> None:
    """Serve a local Hub until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=None, help="where repos are stored (default: a temp dir)")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    root = args.root or Path(tempfile.mkdtemp(prefix="local-hub-"))
    server = HubServer(root, args.port)
    print(f"HF_ENDPOINT={server.url}  (root {root}; tokens: {', '.join(server.tokens)})", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        server.server_close()


if __name__ == "__main__":
    main()
