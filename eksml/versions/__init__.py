"""How current and compatible an environment's pins are: charts' own kubeVersion (from the cache) at
validate time, and `eksml outdated` (newest versions the chart repository offers)."""
