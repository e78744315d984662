"""One module per instrument, each written from its page in docs/protocols/ alone; `base` is what they share
(docs/drivers.md)."""
