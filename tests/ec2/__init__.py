"""EC2 tests: the drivers and oned against moto's EC2 server on loopback."""
