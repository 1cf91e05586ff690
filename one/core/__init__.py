"""Core managers: authentication, authorization and one manager per object kind."""
