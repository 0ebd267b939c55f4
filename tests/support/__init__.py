"""Test-support code: stand-ins for AWS that run real components (never imported by the product)."""
