"""Payments, payment methods and Flow.cl transactions."""
