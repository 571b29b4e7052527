"""The command line: one module per command, its parser beside its handler."""
