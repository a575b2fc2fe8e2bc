"""Import only the parts of the prebuilt AWS provider binding that the stacks use.

The package's `__init__` imports all of its ~2,100 resource modules (most of the 10-15 s that
`import cdktf_cdktf_provider_aws` costs); eksml's stacks use about forty. Each resource module
needs only the package's `_jsii` module (the assembly) and never a sibling, so registering the
package without running its `__init__` lets `from cdktf_cdktf_provider_aws.vpc import Vpc` load
just what it names. The Terraform JSON is the same either way (tests/test_synth_many.py compares).
"""

from __future__ import annotations

import importlib.util
import sys
import types

PROVIDER_PACKAGE = "cdktf_cdktf_provider_aws"


def register_provider_package(name: str = PROVIDER_PACKAGE) -> None:
    """Put an empty package for `name` in sys.modules (no-op once it is imported, lazily or not)."""
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None or spec.submodule_search_locations is None:
        return  # not installed: the import in the stacks reports it as usual
    package = types.ModuleType(name, "the AWS provider binding, its modules imported one by one on use")
    package.__path__ = list(spec.submodule_search_locations)
    package.__package__ = name
    package.__file__ = spec.origin
    package.__spec__ = spec
    sys.modules[name] = package
