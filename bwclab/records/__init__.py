"""A department's own records: its CAD (dispatch) and evidence (audit) exports read, the simulator's inputs
fitted from them (`bwclab sim calibrate`), and a scenario's prediction held against them (`bwclab sim backtest`)."""
