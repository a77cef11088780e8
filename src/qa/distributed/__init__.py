"""Index builds whose per-document work runs on a cluster (optional extras; see ray_build)."""
