"""ballot: an end-to-end verifiable secret ballot."""
__version__ = "0.1.0"
