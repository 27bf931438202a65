"""Vendored XML schemas of the standards ARGUS writes."""
