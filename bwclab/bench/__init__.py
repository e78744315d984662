"""The bench description: one YAML file read by both the rig and the emulator."""
