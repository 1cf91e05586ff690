"""Transfer drivers (ssh, shared) against real sshds on loopback addresses."""
