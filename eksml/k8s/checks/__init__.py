"""What the rendered objects must pass before anything is written or installed: the schemas and
CRDs, Pod Security, secrets, images, replicas, and whether every pod has a pool to land on."""
