"""Hooks of the Qwen-ASR provider."""
