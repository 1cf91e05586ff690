"""Issue 10's reliability campaign, shared by `tests/campaign` (bounded) and
`python -m bench.campaign` (long): crashes of oned, concurrent clients, a fuzz pass.

Each campaign returns `Findings`: a count per invariant and its first examples,
so one run says everything that broke, not just the first thing.
"""
