"""The match-making scheduler: expressions, policies, the dispatch cycle."""
