"""Hardware in the loop: a simulated shift replayed onto a bench in real time (`bwclab hil run`)."""
