"""What the AWS layer promises the Kubernetes layer: shared names (`names`) and the outputs of an
apply, or their prediction before one (`outputs`)."""
