"""Chaos testing: a recorded workload under injected faults, and checkers for its history."""
