"""Pure-Python model of a network design: no torch, no Qt."""
