"""Terraform, run by us: offline provider setup, a per-stack runner, and error mapping."""

from eksml.terraform.diagnostics import Diagnostic, LockInfo, StateLocked, parse_lock_info, stage_error
from eksml.terraform.model import ApplyResult, Interrupted, Plan, ResourceChange, TerraformEvent
from eksml.terraform.runner import Terraform
from eksml.terraform.signals import SIGNALS
from eksml.terraform.setup import (
    MIRROR_ENV,
    PROVIDER_ADDRESS,
    PROVIDER_VERSION,
    TerraformCli,
    find_provider_mirror,
    prepare_terraform,
    render_cli_config,
    write_cli_config,
)

__all__ = [
    "ApplyResult", "Diagnostic", "SIGNALS", "Interrupted", "LockInfo", "MIRROR_ENV", "PROVIDER_ADDRESS", "PROVIDER_VERSION",
    "Plan", "ResourceChange", "StateLocked", "Terraform", "TerraformCli", "TerraformEvent", "find_provider_mirror",
    "parse_lock_info", "prepare_terraform", "render_cli_config", "stage_error", "write_cli_config",
]
