"""one: a Python re-implementation of classic OpenNebula."""

__version__ = "0.1.0"
# The XML-RPC API level this server speaks (what one.system.version answers).
API_VERSION = "7.4.0"
