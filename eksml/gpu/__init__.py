"""GPU sharing semantics both layers use: which GPU a pool carries, the node labels that select its
sharing configuration, the resources its nodes advertise, and the GPU operator's per-pool configs."""
