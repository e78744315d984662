"""One module per instrument, each written from its page in docs/protocols/ alone."""
