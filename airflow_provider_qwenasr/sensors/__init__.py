"""Sensors of the Qwen-ASR provider."""
