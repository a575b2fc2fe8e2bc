"""The emulator process: moto's server, plus a snapshot of every backend on disk.

Run as `python -m eksml.emulator.server --port N --state FILE`. On start it loads FILE (if any) into
moto's backends; it writes FILE again when asked (`POST /_eksml/snapshot`), on SIGTERM/SIGINT, and
when the process that started it dies (after requests have stopped for a few seconds, so a
terraform still finishing its apply is included). Why a snapshot and not moto's recorder: replaying
requests re-runs every call terraform ever made (slow, grows forever) and reproduces IDs only if
every random draw happens in the same order; a snapshot restores the objects themselves, IDs
included.

Backends reference each other (EKS -> EC2, ...) and module-level registries; those references are
pickled by name (`persistent_id`) and resolved to the live objects of the new process, so only the
data is copied. Locks and conditions are recreated empty. A snapshot records the moto version that
wrote it and is refused by another. It is a pickle: only ever load files this process wrote.
"""

from __future__ import annotations

import argparse
import copyreg
import importlib
import io
import os
import pickle
import signal
import sys
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

SNAPSHOT_PATH = "/_eksml/snapshot"
READY_PATH = "/_eksml/ready"
FORMAT_VERSION = 1
SNAPSHOT_UNUSABLE = 3  # exit code: the snapshot cannot be loaded (corrupt, or from another moto)
PARENT_GONE_QUIET = 3.0  # seconds without a request before a parentless server saves and exits
PARENT_GONE_MAX_WAIT = 1800.0


def _reducers() -> dict[type, Any]:
    """How to pickle what pickle cannot: locks (recreated empty) and OpenSSL keys (as PEM/DER)."""
    lock, rlock = threading.Lock(), threading.RLock()
    reducers: dict[type, Any] = {
        type(lock): lambda _: (threading.Lock, ()),
        type(rlock): lambda _: (threading.RLock, ()),
        threading.Condition: lambda _: (threading.Condition, ()),
        threading.Event: lambda _: (threading.Event, ()),
    }
    try:  # KMS, EC2 key pairs and IAM hold cryptography keys, which are Rust objects
        from cryptography.hazmat.bindings._rust import openssl as rust
        from cryptography.hazmat.primitives import serialization
    except ImportError:
        return reducers
    for module_name, names in {
        "rsa": ("RSAPrivateKey", "RSAPublicKey"), "ec": ("ECPrivateKey", "ECPublicKey"),
        "dsa": ("DSAPrivateKey", "DSAPublicKey"), "ed25519": ("Ed25519PrivateKey", "Ed25519PublicKey"),
        "ed448": ("Ed448PrivateKey", "Ed448PublicKey"), "x25519": ("X25519PrivateKey", "X25519PublicKey"),
    }.items():
        module = getattr(rust, module_name, None)
        private, public = (getattr(module, name, None) for name in names)
        if private is not None:
            reducers[private] = lambda key: (_load_private_key, (key.private_bytes(
                serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),))
        if public is not None:
            reducers[public] = lambda key: (_load_public_key, (key.public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo),))
    return reducers


def _load_private_key(der: bytes) -> Any:
    from cryptography.hazmat.primitives.serialization import load_der_private_key

    return load_der_private_key(der, password=None)


def _load_public_key(der: bytes) -> Any:
    from cryptography.hazmat.primitives.serialization import load_der_public_key

    return load_der_public_key(der)


def _registries() -> dict[tuple[str, str], Any]:
    """Every moto BackendDict that holds data, keyed by (module, attribute) so a new process finds it."""
    from moto.core.base_backend import BackendDict

    found = {}
    for backend_dict in list(BackendDict._instances):  # type: ignore[misc]
        module = sys.modules[backend_dict.backend.__module__]
        for attribute, value in vars(module).items():
            if value is backend_dict:
                found[(module.__name__, attribute)] = backend_dict
                break
    return found


class _SnapshotPickler(pickle.Pickler):
    def __init__(self, file: io.BufferedIOBase, registries: dict[tuple[str, str], Any]):
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.dispatch_table = copyreg.dispatch_table.copy()
        self.dispatch_table.update(_reducers())
        self._by_id: dict[int, tuple] = {}
        for key, backend_dict in registries.items():
            self._by_id[id(backend_dict)] = ("registry", key)
            for account, per_account in backend_dict.items():
                self._by_id[id(per_account)] = ("account", key, account)
                for region, backend in per_account.items():
                    self._by_id[id(backend)] = ("backend", key, account, region)

    def persistent_id(self, obj: Any) -> tuple | None:
        return self._by_id.get(id(obj))


class _SnapshotUnpickler(pickle.Unpickler):
    def persistent_load(self, pid: tuple) -> Any:
        kind, (module, attribute), *rest = pid
        backend_dict = getattr(importlib.import_module(module), attribute)
        if kind == "registry":
            return backend_dict
        if kind == "account":
            return backend_dict[rest[0]]
        return backend_dict[rest[0]][rest[1]]


def save_snapshot(path: Path) -> int:
    """Write every backend's data to `path` atomically; returns the number of backends written."""
    from moto.core.base_backend import backend_lock

    with backend_lock:
        registries = _registries()
        states = {
            (key, account, region): backend.__dict__
            for key, backend_dict in registries.items()
            for account, per_account in backend_dict.items()
            for region, backend in per_account.items()
        }
        buffer = io.BytesIO()
        pickler = _SnapshotPickler(buffer, registries)
        pickler.dump({"version": FORMAT_VERSION, "moto": _moto_version()})  # read first, alone
        pickler.dump(states)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(path.suffix + ".partial")
    partial.write_bytes(buffer.getvalue())
    os.replace(partial, path)
    return len(states)


def load_snapshot(path: Path) -> int:
    """Replace the data of every backend named in `path`; returns the number restored."""
    unpickler = _SnapshotUnpickler(io.BytesIO(path.read_bytes()))
    header = unpickler.load()
    if not isinstance(header, dict) or header.get("version") != FORMAT_VERSION:
        raise RuntimeError(f"not an eksml emulator snapshot of format {FORMAT_VERSION}")
    if header.get("moto") != _moto_version():
        raise RuntimeError(f"written by moto {header.get('moto')}, this is moto {_moto_version()}")
    states = unpickler.load()
    for ((module, attribute), account, region), state in states.items():
        backend = getattr(importlib.import_module(module), attribute)[account][region]
        backend.__dict__.clear()
        backend.__dict__.update(state)
    return len(states)


class _AnsweredCalls:
    """The answers last given, by the SDK's `amz-sdk-invocation-id`: the emulator serves one request
    at a time, so a loaded machine makes a client give up waiting and send the same call again
    (same invocation id). Carrying it out twice fails where AWS does not: CreateAlias on an alias
    it has just created is AlreadyExists. A repeated call gets the answer its first attempt got."""

    def __init__(self, keep: int = 256) -> None:
        self._keep = keep
        self._answers: OrderedDict[str, tuple[str, list, bytes]] = OrderedDict()

    def answer(self, environ: dict, call) -> tuple[str, list, bytes]:
        invocation = environ.get("HTTP_AMZ_SDK_INVOCATION_ID")
        if invocation in self._answers:
            return self._answers[invocation]
        status, headers, body = call()
        if invocation and status.startswith("2"):  # a failed first attempt must run again
            self._answers[invocation] = (status, headers, body)
            if len(self._answers) > self._keep:
                self._answers.popitem(last=False)
        return status, headers, body


class _Activity:
    """When the last request arrived: after its parent died, the server waits for quiet."""

    def __init__(self) -> None:
        self.last = time.monotonic()

    def touch(self) -> None:
        self.last = time.monotonic()

    def quiet_for(self) -> float:
        return time.monotonic() - self.last


def _moto_version() -> str:
    import moto

    return moto.__version__


def _app(state: Path | None, activity: _Activity):
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    moto_app = DomainDispatcherApplication(create_backend_app)
    # Stacks apply side by side: one request at a time keeps moto's dicts whole for a snapshot.
    requests_lock = threading.Lock()
    answered = _AnsweredCalls()

    def app(environ: dict, start_response):
        activity.touch()
        path = environ.get("PATH_INFO", "")
        if path == READY_PATH:
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"ready\n"]
        if path == SNAPSHOT_PATH and environ.get("REQUEST_METHOD") == "POST":
            if state is None:
                start_response("409 Conflict", [("Content-Type", "text/plain")])
                return [b"no state file: this emulator is throwaway\n"]
            with requests_lock:  # a consistent picture: no request changes a backend while it is pickled
                count = save_snapshot(state)
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [f"saved {count} backends\n".encode()]
        with requests_lock:
            status, headers, body = answered.answer(environ, lambda: _called(moto_app, environ))
        start_response(status, headers)
        return [body]

    return app


def _called(wsgi_app, environ: dict) -> tuple[str, list, bytes]:
    """Status, headers and the whole body of one WSGI call."""
    started: list = []
    written: list[bytes] = []

    def start_response(status: str, headers: list, exc_info=None):
        started[:] = [status, headers]
        return written.append

    returned = wsgi_app(environ, start_response)
    try:
        body = b"".join([*written, *returned])
    finally:
        getattr(returned, "close", lambda: None)()
    return started[0], started[1], body


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m eksml.emulator.server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--state", type=Path, default=None, help="snapshot file to load and save")
    parser.add_argument("--parent", type=int, default=None, help="exit (saving) when this process is gone")
    args = parser.parse_args(argv)

    from moto.moto_server.werkzeug_app import MotoRequestHandler
    from werkzeug.serving import make_server

    os.environ.setdefault("MOTO_PORT", str(args.port))
    if args.state is not None and args.state.is_file():
        try:
            restored = load_snapshot(args.state)
        except Exception as exc:  # any failure here means the file is unusable, not a bug to trace
            print(f"eksml-emulator: cannot load {args.state}: {type(exc).__name__}: {exc}", flush=True)
            sys.exit(SNAPSHOT_UNUSABLE)
        print(f"eksml-emulator: restored {restored} backends from {args.state}", flush=True)

    activity = _Activity()
    server = make_server(args.host, args.port, _app(args.state, activity), threaded=True,
                         request_handler=MotoRequestHandler)
    stopping = threading.Event()

    def stop(*_: Any) -> None:
        if not stopping.is_set():
            stopping.set()
            threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if args.parent:
        def watch_parent() -> None:
            # The parent may die while a terraform it started is still applying (terraform runs in
            # its own session and finishes its work): wait until nobody has called for a while, so
            # the snapshot holds the resources together with the state terraform wrote for them.
            while not stopping.wait(0.5):
                if os.getppid() != args.parent:
                    print("eksml-emulator: parent gone; saving once requests stop", flush=True)
                    deadline = time.monotonic() + PARENT_GONE_MAX_WAIT
                    while activity.quiet_for() < PARENT_GONE_QUIET and time.monotonic() < deadline:
                        time.sleep(0.2)
                    stop()

        threading.Thread(target=watch_parent, daemon=True).start()

    print(f"eksml-emulator: listening on http://{args.host}:{args.port}", flush=True)
    server.serve_forever()
    if args.state is not None:
        begun = time.monotonic()
        count = save_snapshot(args.state)
        print(f"eksml-emulator: saved {count} backends to {args.state} in {time.monotonic() - begun:.2f}s", flush=True)


if __name__ == "__main__":
    main()
