"""Read rendered manifests the way Kubernetes reads them.

kubectl and Helm parse YAML with sigs.k8s.io/yaml, i.e. go-yaml v2, which differs from PyYAML's
SafeLoader in ways that matter for real charts:
- a bare `=` (kube-prometheus-stack's CRDs list it as an operator) is the string "="; PyYAML
  resolves it to YAML 1.1's `value` tag and fails;
- dates and timestamps (`2024-01-01`) stay strings; PyYAML makes datetime objects;
- `12:30` is the string "12:30"; PyYAML reads YAML 1.1 base-60 integers (750);
- `1e3` is a number;
- YAML 1.1 booleans remain booleans, including `y`/`n`: go-yaml v2 reads `on`, `yes`, `y` as true
  (which is why Kubernetes rejects an unquoted `on` in a string field), so this reader does too;
- mapping keys are strings, as in JSON (a key `on:` becomes "true", as sigs.k8s.io/yaml makes it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

import yaml

from eksml.errors import StageError

_BOOL = {v: True for v in ("y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON")}
_BOOL.update({v: False for v in ("n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF")})
_INT = re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$")
_FLOAT = re.compile(
    r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?|[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+"
    r"|[-+]?\.[0-9_]+(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)
_KEEP = {"tag:yaml.org,2002:null", "tag:yaml.org,2002:merge"}  # PyYAML's own resolvers that go-yaml shares


_BASE = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml parses ten times faster; same resolvers


class KubeLoader(_BASE):  # type: ignore[misc, valid-type]
    """SafeLoader with go-yaml v2's implicit types (see the module docstring)."""

    def construct_yaml_bool(self, node: yaml.ScalarNode) -> bool:
        return _BOOL[self.construct_scalar(node)]

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[str, Any]:
        """JSON keys are strings: sigs.k8s.io/yaml turns a key read as true/1/null into "true"/"1"/"null"."""
        mapping = super().construct_mapping(node, deep=deep)
        return {_key(key): value for key, value in mapping.items()}


def _key(key: Any) -> Any:
    if isinstance(key, bool):
        return "true" if key else "false"
    if key is None:
        return "null"
    return str(key) if isinstance(key, (int, float)) else key


KubeLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag in _KEEP]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
KubeLoader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile("^(?:" + "|".join(_BOOL) + ")$"),
                                 list("yYnNtTfFoO"))
KubeLoader.add_implicit_resolver("tag:yaml.org,2002:int", _INT, list("-+0123456789"))
KubeLoader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT, list("-+0123456789."))
KubeLoader.add_constructor("tag:yaml.org,2002:bool", KubeLoader.construct_yaml_bool)
# `<<` merges as a key; anywhere else it is the string "<<" (PyYAML fails on it)
KubeLoader.add_constructor("tag:yaml.org,2002:merge", yaml.SafeLoader.construct_scalar)


def load(text: str) -> Any:
    """One YAML document, read as Kubernetes would."""
    return yaml.load(text, Loader=KubeLoader)


@dataclass(frozen=True)
class ManifestObject:
    source: str  # the chart template it came from (Helm's `# Source:` line), or "" when unknown
    body: dict[str, Any]

    @property
    def kind(self) -> str:
        return str(self.body.get("kind", ""))

    @property
    def name(self) -> str:
        return str((self.body.get("metadata") or {}).get("name", ""))

    @property
    def namespace(self) -> str | None:
        return (self.body.get("metadata") or {}).get("namespace")

    def __str__(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {where}{self.name}"


_SEPARATOR = re.compile(r"^---[ \t]*(?:#.*)?$", re.MULTILINE)
_SOURCE = re.compile(r"^# Source: (.+)$", re.MULTILINE)


def read_manifest(text: str, release: str = "") -> list[ManifestObject]:
    """Every object of a multi-document manifest (`helm template` output), in order, with its source.

    Empty documents (templates that rendered to nothing) are skipped; `List` kinds are flattened.
    A document that is not YAML or not an object is a StageError naming the release and template.
    """
    objects: list[ManifestObject] = []
    source = ""
    for chunk in _SEPARATOR.split(text):
        found = _SOURCE.search(chunk)
        if found:  # a CRD file may hold several documents under one `# Source:` line
            source = found.group(1).strip()
        try:
            body = load(chunk)
        except yaml.YAMLError as exc:
            raise StageError("render", f"{source or 'a document'} is not valid YAML: {_one_line(exc)}",
                             resource=release and f"release {release}") from None
        if body is None:
            continue
        if not isinstance(body, dict) or "kind" not in body or "apiVersion" not in body:
            raise StageError("render", f"{source or 'a document'} is not a Kubernetes object (no apiVersion/kind)",
                             resource=release and f"release {release}")
        if body["kind"].endswith("List") and isinstance(body.get("items"), list):
            objects.extend(ManifestObject(source, item) for item in body["items"] if isinstance(item, dict))
        else:
            objects.append(ManifestObject(source, body))
    return objects


def _one_line(exc: yaml.YAMLError) -> str:
    return " ".join(str(exc).split())


def without_documents(text: str, leave_out: Callable[[dict[str, Any]], bool]) -> str:
    """`text` with every document whose object `leave_out` matches removed; the rest byte for byte."""
    starts = [0] + [match.start() for match in _SEPARATOR.finditer(text)]
    chunks = [text[begin:end] for begin, end in zip(starts, starts[1:] + [len(text)])]
    kept = []
    for chunk in chunks:
        body = load(_SEPARATOR.sub("", chunk, count=1))
        if not (isinstance(body, dict) and leave_out(body)):
            kept.append(chunk)
    return "".join(kept)
