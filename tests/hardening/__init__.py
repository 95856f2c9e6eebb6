"""Hardening tests: hostile input, evidence safety, properties, fuzzing, determinism.

The bad-input corpus is generated into temporary folders by :mod:`.corpus`
(no binary fixtures are committed).
"""
