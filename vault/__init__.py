"""Evidence Vault: forensic evidence storage with a verifiable chain of custody."""

__version__ = "0.1.0"
