"""The in-container side of sfncompile: standard library and boto3 only."""
