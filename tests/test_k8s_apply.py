"""KubernetesApplier through the real kubernetes client against a minimal stand-in API server on
127.0.0.1: discovery, server-side apply (content type, field manager, force) and a CRD that appears
only after the release that installs it."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest
import yaml

from eksml.k8s.cluster.apply import FIELD_MANAGER, KubernetesApplier, TransientApplyError
from eksml.k8s.model.records import ObjectRef

CORE = {"namespaces": ("Namespace", False), "secrets": ("Secret", True), "configmaps": ("ConfigMap", True)}
KARPENTER = {"nodepools": ("NodePool", False)}


class FakeApiServer(BaseHTTPRequestHandler):
    served_crds: bool = False
    status_for_patch: int = 200
    patches: list = []
    objects: dict = {}

    def log_message(self, *args):  # keep test output clean
        pass

    def _send(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    @staticmethod
    def _resource_list(group_version: str, resources: dict) -> dict:
        return {"kind": "APIResourceList", "groupVersion": group_version, "resources": [
            {"name": name, "singularName": kind.lower(), "namespaced": namespaced, "kind": kind,
             "verbs": ["get", "list", "patch", "create"]}
            for name, (kind, namespaced) in resources.items()
        ]}

    def do_GET(self):
        path = urlparse(self.path).path
        if path == "/version":
            return self._send(200, {"major": "1", "minor": "33", "gitVersion": "v1.33.0"})
        if path == "/api":
            return self._send(200, {"kind": "APIVersions", "versions": ["v1"]})
        if path == "/api/v1":
            return self._send(200, self._resource_list("v1", CORE))
        if path == "/apis":
            groups = []
            if type(self).served_crds:
                version = {"groupVersion": "karpenter.sh/v1", "version": "v1"}
                groups.append({"name": "karpenter.sh", "versions": [version], "preferredVersion": version})
            return self._send(200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
        if path == "/apis/karpenter.sh/v1" and type(self).served_crds:
            return self._send(200, self._resource_list("karpenter.sh/v1", KARPENTER))
        if path in type(self).objects:
            return self._send(200, type(self).objects[path])
        return self._send(404, {"kind": "Status", "status": "Failure", "reason": "NotFound", "code": 404})

    def do_DELETE(self):
        path = urlparse(self.path).path
        if path in type(self).objects:
            return self._send(200, type(self).objects.pop(path))
        return self._send(404, {"kind": "Status", "status": "Failure", "reason": "NotFound", "code": 404})

    def do_PATCH(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        query = parse_qs(urlparse(self.path).query)
        type(self).patches.append({"path": urlparse(self.path).path, "content_type": self.headers["Content-Type"],
                                   "query": query, "body": yaml.safe_load(body)})
        if type(self).status_for_patch != 200:
            return self._send(type(self).status_for_patch, {"kind": "Status", "status": "Failure",
                                                            "code": type(self).status_for_patch})
        return self._send(200, yaml.safe_load(body))


@pytest.fixture
def api_server(tmp_path):
    handler = type("Handler", (FakeApiServer,), {"patches": [], "objects": {}, "served_crds": False, "status_for_patch": 200})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "other",
        "clusters": [{"name": "fake", "cluster": {"server": f"http://127.0.0.1:{server.server_address[1]}"}}],
        "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "u"}},
                     {"name": "other", "context": {"cluster": "missing", "user": "u"}}],
    }))
    yield handler, kubeconfig, tmp_path / "discovery.json"
    server.shutdown()
    server.server_close()


def test_server_side_apply_with_the_eksml_field_manager(api_server):
    handler, kubeconfig, cache = api_server
    applier = KubernetesApplier(kubeconfig, "fake", cache)
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "research", "labels": {"a": "b"}}}
    config_map = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm", "namespace": "gpu-operator"},
                  "data": {"k": "v"}}
    applier.apply(namespace)
    applier.apply(config_map)
    first, second = handler.patches
    assert first["path"] == "/api/v1/namespaces/research"
    assert second["path"] == "/api/v1/namespaces/gpu-operator/configmaps/cm"
    for patch, manifest in ((first, namespace), (second, config_map)):
        assert patch["content_type"] == "application/apply-patch+yaml"
        assert patch["query"]["fieldManager"] == [FIELD_MANAGER]
        assert patch["query"]["force"][0].lower() == "true"
        assert patch["body"] == manifest


def test_a_crd_installed_after_discovery_is_found_on_retry(api_server):
    handler, kubeconfig, cache = api_server
    applier = KubernetesApplier(kubeconfig, "fake", cache)
    node_pool = {"apiVersion": "karpenter.sh/v1", "kind": "NodePool", "metadata": {"name": "gpu"}, "spec": {}}
    applier.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "karpenter"}})  # discovery cached
    with pytest.raises(TransientApplyError, match="not served"):
        applier.apply(node_pool)
    handler.served_crds = True  # the karpenter release has installed its CRDs
    applier.apply(node_pool)
    assert handler.patches[-1]["path"] == "/apis/karpenter.sh/v1/nodepools/gpu"


def test_server_errors_are_transient_and_existence_is_checked(api_server):
    handler, kubeconfig, cache = api_server
    applier = KubernetesApplier(kubeconfig, "fake", cache)
    handler.status_for_patch = 503
    with pytest.raises(TransientApplyError, match="503"):
        applier.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x"}})
    secret = ObjectRef("v1", "Secret", "mlflow-db", "mlflow")
    assert applier.exists(secret) is False
    handler.objects["/api/v1/namespaces/mlflow/secrets/mlflow-db"] = {
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "mlflow-db", "namespace": "mlflow"}}
    assert applier.exists(secret) is True


def test_delete_reports_whether_there_was_something_to_delete(api_server):
    handler, kubeconfig, cache = api_server
    applier = KubernetesApplier(kubeconfig, "fake", cache)
    handler.objects["/api/v1/namespaces/research"] = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "research"}}
    namespace = ObjectRef("v1", "Namespace", "research")
    assert applier.delete(namespace) is True
    assert applier.delete(namespace) is False
    assert applier.exists(namespace) is False
    # A kind the cluster no longer serves (its CRDs went with its release): nothing to delete.
    assert applier.delete(ObjectRef("karpenter.sh/v1", "NodePool", "gpu")) is False
