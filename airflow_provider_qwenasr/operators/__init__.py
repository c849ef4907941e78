"""Operators of the Qwen-ASR provider."""
