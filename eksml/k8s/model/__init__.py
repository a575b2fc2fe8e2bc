"""What the Kubernetes layer is made of, before any chart is rendered: the components and their
context, the values they compute, the pools they are placed on, and the objects eksml owns."""
