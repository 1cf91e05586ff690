"""OneFlow-compatible services: a REST server that is a client of oned over XML-RPC only."""
