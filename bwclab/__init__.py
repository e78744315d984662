"""bwclab: test and predict police body-camera auto-activation."""

__version__ = "0.1.0"
