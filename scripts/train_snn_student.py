#!/usr/bin/env python3
"""Seed-000 compatible training entry point: the same options as ``spikelite distill``."""
import sys

from spikelite.cli import main

if __name__ == "__main__":
    main(["distill", *sys.argv[1:]], prog_name="train_snn_student.py")
