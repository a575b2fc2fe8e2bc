"""The AWS outputs of one environment: predicted from its names before an apply, or read after one.

The contract (eksml/contract/outputs.py) knows only names; this is where an environment file and the
component descriptions (which IRSA roles exist) are turned into the few fields it needs.
"""

from __future__ import annotations

from typing import Optional

from eksml.components import identities
from eksml.config.components import component_enabled
from eksml.config.models import Environment
from eksml.contract.names import ADDON_SERVICE_ACCOUNTS, ServiceAccount
from eksml.contract.outputs import AwsOutputs


def irsa_keys(env: Optional[Environment] = None) -> tuple[str, ...]:
    """The IRSA roles of an environment: the EKS add-ons' and each of its enabled components'
    (the platform stack makes no role for a component that is off); without env, every one."""
    return tuple(irsa_service_accounts(env))


def predict_outputs(env: Environment) -> AwsOutputs:
    return AwsOutputs.predict(
        cluster_name=env.cluster.name, region=env.region, account_id=env.account_id,
        bucket_names={item: env.bucket_name(item) for item in env.bucket_items},
        irsa_keys=irsa_keys(env), has_efs=bool(env.storage.efs),
    )


def outputs_from_terraform(env: Environment, outputs_by_stack: dict[str, dict]) -> AwsOutputs:
    return AwsOutputs.from_terraform(predict_outputs(env), outputs_by_stack)


def irsa_service_accounts(env: Optional[Environment] = None) -> dict[str, ServiceAccount]:
    """Each IRSA identity key with the one service account its role trusts (of env's enabled components)."""
    return {
        **ADDON_SERVICE_ACCOUNTS,
        **{identity.key: ServiceAccount(spec.namespace, identity.service_account) for spec, identity in identities()
           if env is None or component_enabled(env, spec)},
    }
