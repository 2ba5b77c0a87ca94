"""recette core: site profiles, the reference lab, the check runner and its pytest plugin."""

__version__ = "0.1.0"
