"""one-econe: the EC2 Query API in front of oned (OpenNebula's econe-server).

A client of oned over XML-RPC only: it authenticates requests with the
user's EC2 key (one.user.ec2keys_*) and then acts as that user.
"""
