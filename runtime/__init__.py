"""On-device runtime: loads a bundle and runs it. Never imports torch."""
