"""Learned components: the span reader and the answer/abstain model, each trained here (`qa train`)."""
