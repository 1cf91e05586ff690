"""Pools: peewee models, repositories, templates and XML rendering."""
