"""The emulator process: moto's server, plus a snapshot of every backend on disk.

Run as `python -m eksml.emulator_server --port N --state FILE`. On start it loads FILE (if any) into
moto's backends; it writes FILE again when asked (`POST /_eksml/snapshot`), on SIGTERM/SIGINT, and
when the process that started it dies. Why a snapshot and not moto's recorder: replaying requests
re-runs every call terraform ever made (slow, grows forever) and reproduces IDs only if every random
draw happens in the same order; a snapshot restores the objects themselves, IDs included.

Backends reference each other (EKS -> EC2, ...) and module-level registries; those references are
pickled by name (`persistent_id`) and resolved to the live objects of the new process, so only the
data is copied. Locks and conditions are recreated empty.
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
from pathlib import Path
from typing import Any

SNAPSHOT_PATH = "/_eksml/snapshot"
READY_PATH = "/_eksml/ready"
FORMAT_VERSION = 1


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
        _SnapshotPickler(buffer, registries).dump({"version": FORMAT_VERSION, "backends": states})
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(path.suffix + ".partial")
    partial.write_bytes(buffer.getvalue())
    os.replace(partial, path)
    return len(states)


def load_snapshot(path: Path) -> int:
    """Replace the data of every backend named in `path`; returns the number restored."""
    data = _SnapshotUnpickler(io.BytesIO(path.read_bytes())).load()
    if data.get("version") != FORMAT_VERSION:
        raise RuntimeError(f"{path}: snapshot format {data.get('version')} is not {FORMAT_VERSION}")
    for ((module, attribute), account, region), state in data["backends"].items():
        backend = getattr(importlib.import_module(module), attribute)[account][region]
        backend.__dict__.clear()
        backend.__dict__.update(state)
    return len(data["backends"])


def _app(state: Path | None):
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    moto_app = DomainDispatcherApplication(create_backend_app)

    def app(environ: dict, start_response):
        path = environ.get("PATH_INFO", "")
        if path == READY_PATH:
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"ready\n"]
        if path == SNAPSHOT_PATH and environ.get("REQUEST_METHOD") == "POST":
            if state is None:
                start_response("409 Conflict", [("Content-Type", "text/plain")])
                return [b"no state file: this emulator is throwaway\n"]
            count = save_snapshot(state)
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [f"saved {count} backends\n".encode()]
        return moto_app(environ, start_response)

    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m eksml.emulator_server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--state", type=Path, default=None, help="snapshot file to load and save")
    parser.add_argument("--parent", type=int, default=None, help="exit (saving) when this process is gone")
    args = parser.parse_args(argv)

    from moto.moto_server.werkzeug_app import MotoRequestHandler
    from werkzeug.serving import make_server

    os.environ.setdefault("MOTO_PORT", str(args.port))
    if args.state is not None and args.state.is_file():
        restored = load_snapshot(args.state)
        print(f"eksml-emulator: restored {restored} backends from {args.state}", flush=True)

    server = make_server(args.host, args.port, _app(args.state), threaded=True, request_handler=MotoRequestHandler)
    stopping = threading.Event()

    def stop(*_: Any) -> None:
        if not stopping.is_set():
            stopping.set()
            threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if args.parent:
        def watch_parent() -> None:
            while not stopping.wait(0.5):
                if os.getppid() != args.parent:
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
