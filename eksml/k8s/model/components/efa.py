"""The EFA device plugin on exactly the EFA pools' nodes (their pool label), tolerating their taints."""

from __future__ import annotations

from typing import Any

from eksml.components.efa import AWS_EFA_DEVICE_PLUGIN
from eksml.contract.names import POOL_LABEL
from eksml.k8s.model.components.base import DescribedComponent
from eksml.k8s.model.components.chatqna import llm_tolerations
from eksml.k8s.model.context import RenderContext


class EfaDevicePlugin(DescribedComponent):
    spec = AWS_EFA_DEVICE_PLUGIN

    def values(self, ctx: RenderContext) -> dict[str, Any]:
        pools = sorted(ctx.env.efa_pools)
        tolerations = [t for pool in pools for t in llm_tolerations(ctx, pool)]
        return {
            # The chart's list of EFA instance types is replaced by the pools that have EFA.
            "supportedInstanceLabels": {"keys": [POOL_LABEL], "values": pools},
            "tolerations": list({tuple(sorted(t.items())): t for t in tolerations}.values()),
            # Privileged (it opens /dev/infiniband and the kubelet's device-plugin socket) and root, as the
            # chart has it; nothing writes to its own file system, and seccomp stays on the runtime default.
            "securityContext": {"privileged": True, "allowPrivilegeEscalation": True, "runAsNonRoot": False,
                                "runAsUser": 0, "readOnlyRootFilesystem": True,
                                "seccompProfile": {"type": "RuntimeDefault"}},
            "resources": {"requests": {"cpu": "10m", "memory": "20Mi"}, "limits": {"cpu": "100m", "memory": "64Mi"}},
        }
