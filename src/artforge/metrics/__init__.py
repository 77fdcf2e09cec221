"""Sample-quality metrics, one module per metric; import the one you need (nothing heavy here)."""
