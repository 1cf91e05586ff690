"""CLI tests: the operator tools run in-process against a real oned."""
