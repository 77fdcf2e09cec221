"""artforge: train generative models on your own art, then create with them.

Importing this package has no side effects: no CUDA, no folders, no logging set-up.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
