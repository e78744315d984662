"""The certification rig: drivers written from docs/protocols/, procedures on small interfaces."""
