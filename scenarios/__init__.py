"""Built-in scenarios, shipped as package data (`--scenario NAME`; core/builtin.py)."""
