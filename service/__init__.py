"""The HTTP service, its composition root and the `sitrep` command line."""
