"""Fleet simulator: a department shift in SimPy (scenario -> model -> run folder)."""
