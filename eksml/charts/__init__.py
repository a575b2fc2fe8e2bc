"""Charts as files: where each comes from (its publisher, or one mirror), a local cache keyed by name
and version, and the real Helm rendering a cached chart with our values.

Nothing here knows the platform's components: callers pass ChartRequests, so the cache and the
renderer can be used by `eksml charts pull`, `eksml render` and the tests alike.
"""

from eksml.charts.cache import ChartCache, default_cache_dir
from eksml.charts.sources import MIRROR_ENV, ChartRequest, chart_mirror

__all__ = ["MIRROR_ENV", "ChartCache", "ChartRequest", "chart_mirror", "default_cache_dir"]
