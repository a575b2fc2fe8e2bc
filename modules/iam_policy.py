"""IAM policy documents as typed statements, rendered to the JSON string IAM expects.

Rendering with json.dumps (not a data source) keeps every policy inspectable in the synthesized
Terraform JSON: tests and checkov read the statements directly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Condition:
    operator: str  # StringEquals, StringLike, Null, Bool, ...
    key: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Statement:
    sid: str
    actions: tuple[str, ...]
    resources: tuple[str, ...] = ("*",)
    effect: str = "Allow"
    conditions: tuple[Condition, ...] = ()
    principals: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (type, identifiers), e.g. ("Service", ("eks.amazonaws.com",))

    def __post_init__(self) -> None:
        # Least privilege is not negotiable: granting a wildcard action is a bug, never a shortcut.
        # Two safe exceptions: denying a whole service (s3:* without TLS), and a key policy handing
        # its key to the account's own IAM (the AWS default key policy), where IAM then scopes access.
        for action in self.actions:
            if action == "*":
                raise ValueError(f"statement {self.sid}: action '*' is not allowed")
            if action.endswith(":*") and self.effect == "Allow" and not self._delegates_to_account_iam():
                raise ValueError(f"statement {self.sid}: wildcard action '{action}' is not allowed")

    def _delegates_to_account_iam(self) -> bool:
        return len(self.principals) == 1 and self.principals[0][0] == "AWS" and all(
            arn.endswith(":root") for arn in self.principals[0][1]
        )

    def render(self) -> dict:
        body: dict = {"Sid": self.sid, "Effect": self.effect}
        if self.principals:
            body["Principal"] = {kind: _one_or_many(ids) for kind, ids in self.principals}
        body["Action"] = _one_or_many(self.actions)
        if self.resources:
            body["Resource"] = _one_or_many(self.resources)
        if self.conditions:
            grouped: dict[str, dict] = {}
            for condition in self.conditions:
                grouped.setdefault(condition.operator, {})[condition.key] = _one_or_many(condition.values)
            body["Condition"] = grouped
        return body


@dataclass(frozen=True)
class PolicyDocument:
    statements: tuple[Statement, ...] = field(default_factory=tuple)

    def to_json(self) -> str:
        return json.dumps({"Version": "2012-10-17", "Statement": [s.render() for s in self.statements]})


def service_trust(*services: str) -> str:
    """Trust policy letting AWS services (eks, ec2, ...) assume a role."""
    return PolicyDocument(
        (
            Statement(
                sid="ServiceAssumeRole",
                actions=("sts:AssumeRole",),
                resources=(),
                principals=(("Service", tuple(f"{s}.amazonaws.com" for s in services)),),
            ),
        )
    ).to_json()


def deny_insecure_transport(sid: str, resources: tuple[str, ...], action: str) -> Statement:
    """A resource policy statement refusing every request that is not over TLS."""
    return Statement(
        sid=sid,
        effect="Deny",
        actions=(action,),
        resources=resources,
        principals=(("AWS", ("*",)),),
        conditions=(Condition("Bool", "aws:SecureTransport", ("false",)),),
    )


def _one_or_many(values: tuple[str, ...]):
    return values[0] if len(values) == 1 else list(values)
