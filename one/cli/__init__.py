"""The operator tools: onevm, onehost, onevnet, oneuser, onegroup, oneimage and
onedatastore.

A pure XML-RPC client: it talks to oned like OpenNebula's Ruby CLI does and
imports nothing from the core, so it works against any compatible server.
"""
