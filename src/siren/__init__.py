"""Siren: a self-healing web application firewall for microservices."""

__version__ = "0.1.0"
