"""Benchmark peers: the networks of hepjax written in other frameworks (bench extra only; each
module imports its framework, so keep them off the hot paths)."""
