"""sitrep's benchmark harness: `python -m bench --quick` (see docs/performance.md)."""
