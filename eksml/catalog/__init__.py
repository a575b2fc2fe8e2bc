"""GPU hardware catalog: EC2 instance types, GPU models and MIG profiles.

The data lives in the JSON files next to this module; code only reads and checks it.
"""

from eksml.catalog.aws_facts import AwsFacts, load_aws_facts
from eksml.catalog.loader import load_catalog
from eksml.catalog.model import Catalog, Gpu, InstanceType, MigProfile

__all__ = ["AwsFacts", "load_aws_facts", "Catalog", "Gpu", "InstanceType", "MigProfile", "load_catalog"]
