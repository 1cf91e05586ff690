"""XML-RPC transport: HTTP server, wire codec, method table, the ONE API methods."""
