"""Built-in scenarios, shipped as package data (`--scenario NAME`; bwclab/core/builtin.py)."""
