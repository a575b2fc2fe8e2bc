"""external-secrets: the RDS master credentials for MLflow, from Secrets Manager, and the mesh's
trust bundle (a ConfigMap copied from the identity issuer's Secret). It runs only with one of them."""

from eksml.components.spec import (
    AddonSwitch, AnyGate, Chart, ComponentSpec, DatabaseSecretRead, Gate, Identity, Network,
)

EXTERNAL_SECRETS = ComponentSpec(
    name="external-secrets",
    namespace="external-secrets",
    chart=Chart("external-secrets", repo="https://charts.external-secrets.io"),
    # Pinned here so that files written against the original contract (../shared/spec) stay valid.
    addon=AddonSwitch("external_secrets", version="0.20.4"),
    gates=(AnyGate((Gate("addons.mlflow.enabled"), Gate("mesh_on"))),),
    provides_api_groups=("external-secrets.io", "generators.external-secrets.io"),
    identity=Identity("external-secrets", service_account="external-secrets", grants=(DatabaseSecretRead(),)),
    network=Network(api_server_ports=("webhook",)),
)
