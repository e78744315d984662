"""The command line's jobs, one module each: certify, demo, nightly, hil (a replay)."""
