"""Reusable constructs of the AWS layer. Importing them loads only the provider modules they name
(eksml/provider_binding.py), however the stacks are started: eksml, the CDKTF CLI or a test."""

from eksml.provider_binding import register_provider_package

register_provider_package()
