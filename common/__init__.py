"""Shared helpers for the HW1 experiment scripts: data, models, training, metrics, plotting, CLI."""
