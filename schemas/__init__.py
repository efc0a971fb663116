"""Newswire's JSON Schemas, shipped as package data so that installed copies can validate."""
