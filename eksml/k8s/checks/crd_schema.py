"""Custom resources checked against the CRDs the rendered charts install, strictly.

The API server prunes unknown fields of a custom resource silently, but `kubectl apply` (strict field
validation by default) refuses them: a misspelled field is an error here too. A CRD's structural
schema becomes a JSON schema: `additionalProperties: false` wherever properties are listed and
`x-kubernetes-preserve-unknown-fields` is not set, int-or-string and nullable as Kubernetes reads them.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any, Iterator

import jsonschema

from eksml.k8s.checks.clean_memo import known_clean, remember_clean, validation_key

_COMBINERS = ("allOf", "anyOf", "oneOf")
_DROP = ("x-kubernetes-", "default", "example", "format")


def strict_schema(schema: Any, top: bool = False) -> Any:
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {k: v for k, v in schema.items() if not k.startswith(_DROP) and k != "description"}
    if schema.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if schema.get("nullable") and "type" in out:
        out["type"] = [out["type"], "null"]
    out.pop("nullable", None)
    if "properties" in out:
        props = {k: strict_schema(v) for k, v in out["properties"].items()}
        if top or schema.get("x-kubernetes-embedded-resource"):
            for key in ("apiVersion", "kind"):
                props.setdefault(key, {"type": "string"})
            props["metadata"] = {"type": "object"}
        out["properties"] = props
        if not schema.get("x-kubernetes-preserve-unknown-fields") and "additionalProperties" not in out:
            out["additionalProperties"] = False
    if isinstance(out.get("additionalProperties"), dict):
        out["additionalProperties"] = strict_schema(out["additionalProperties"])
    if "items" in out:
        out["items"] = strict_schema(out["items"])
    for key in _COMBINERS:
        if key in out:
            # structural schemas repeat fields in combiners only as value checks: keep them unstrict
            out[key] = [_loose(strict_schema(s)) for s in out[key]]
    if "not" in out:
        out["not"] = _loose(strict_schema(out["not"]))
    return out


def _loose(schema: Any) -> Any:
    if isinstance(schema, dict) and schema.get("additionalProperties") is False:
        schema = {k: v for k, v in schema.items() if k != "additionalProperties"}
    return schema


def version_schema(crd: dict[str, Any], version: str) -> Any:
    """The openAPIV3Schema of one version of a CRD (apiextensions.k8s.io/v1), or None."""
    for entry in (crd.get("spec") or {}).get("versions") or []:
        if isinstance(entry, dict) and entry.get("name") == version:
            return ((entry.get("schema") or {}).get("openAPIV3Schema")) or None
    return None


@lru_cache(maxsize=512)
def _validator_for(key: str, schema_json: str) -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(strict_schema(json.loads(schema_json), top=True))


def custom_resource_errors(body: dict[str, Any], crd: dict[str, Any], version: str) -> Iterator[tuple[str, str]]:
    """(field path, message) for each way `body` breaks its CRD's schema."""
    schema = version_schema(crd, version)
    if schema is None:
        served = [v.get("name") for v in (crd.get("spec") or {}).get("versions") or [] if isinstance(v, dict)]
        yield "apiVersion", f"the CRD {crd['metadata']['name']} serves versions {', '.join(map(str, served))}, not {version}"
        return
    schema_json = json.dumps(schema, sort_keys=True)
    key = validation_key(schema_json, body)  # the schema itself is its identity
    if known_clean(key):
        return
    validator = _validator_for(crd["metadata"]["name"] + "/" + version, schema_json)
    errors = sorted(validator.iter_errors(body), key=lambda e: list(map(str, e.absolute_path)))
    if not errors:
        remember_clean(key)
    for error in errors:
        yield field_path(error.absolute_path), describe(error)


def field_path(parts) -> str:
    path = ""
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def describe(error: jsonschema.ValidationError) -> str:
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set((error.schema.get("properties") or {})))
        known = ", ".join(sorted(error.schema.get("properties") or {})) or "none"
        return f"unknown field(s) {', '.join(repr(e) for e in extra)}; allowed here: {known}"
    message = error.message
    return message if len(message) <= 300 else message[:300] + "..."
