"""Triggers of the Qwen-ASR provider."""
