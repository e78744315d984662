"""The bench emulator: trigger emitters, cameras, a GPIO adapter and lab instruments on real transports."""
