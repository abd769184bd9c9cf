"""Pure folds of the log into read models: no I/O, no clock."""
