"""Grafana's admin credentials without a secret in any file: an ExternalSecret fills the Secret the
chart reads (`admin.existingSecret`) from an external-secrets Password generator, once, in the
cluster. The chart's own Secret (a password generated at template time into the rendered manifest,
and so into git in gitops mode) is never rendered. Without external-secrets Grafana creates no
initial admin at all (sign-in through the ALB's identity provider, or a later ExternalSecret).
"""

from __future__ import annotations

from typing import Any

from eksml.k8s.model.components.generated_secret import generated_secret
from eksml.k8s.model.records import Manifest

GRAFANA_ADMIN_SECRET = "grafana-admin"
USER_KEY, PASSWORD_KEY = "admin-user", "admin-password"


ADMIN_USER = "admin"
# The password reaches Grafana as a file (GF_SECURITY_ADMIN_PASSWORD__FILE), never as an environment
# variable: a process listing or a crash dump shows environment variables (checkov CKV_K8S_35).
SECRET_MOUNT = "/etc/grafana-admin"


def grafana_admin_values(with_external_secrets: bool) -> dict[str, Any]:
    if not with_external_secrets:
        return {"env": {"GF_SECURITY_DISABLE_INITIAL_ADMIN_CREATION": "true"}}
    return {
        "admin": {"existingSecret": GRAFANA_ADMIN_SECRET, "userKey": USER_KEY, "passwordKey": PASSWORD_KEY},
        # With both set the chart puts no secretKeyRef in any container (the sidecars skip reloads).
        "env": {"GF_SECURITY_ADMIN_USER": ADMIN_USER, "GF_SECURITY_ADMIN_PASSWORD__FILE": f"{SECRET_MOUNT}/{PASSWORD_KEY}"},
        "extraSecretMounts": [{"name": GRAFANA_ADMIN_SECRET, "secretName": GRAFANA_ADMIN_SECRET,
                               "mountPath": SECRET_MOUNT, "readOnly": True, "defaultMode": 0o440}],
    }


def grafana_admin_objects(namespace: str) -> list[Manifest]:
    return generated_secret(GRAFANA_ADMIN_SECRET, namespace, {USER_KEY: ADMIN_USER, PASSWORD_KEY: "{{ .password }}"})
