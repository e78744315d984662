"""Body-camera behaviour, free of any clock: states, pre-event buffer, signal reception.

The fleet simulator drives it from SimPy's virtual clock; the bench emulator drives the
same code from the host's monotonic clock. Nothing here imports simpy or reads a clock.
"""
