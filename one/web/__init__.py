"""one-web: the web console, a client of oned over XML-RPC only (what Sunstone is to OpenNebula)."""
