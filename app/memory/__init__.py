"""The Memory page: cells compared side by side, accuracy against the memory span, and memory diagnostics."""
