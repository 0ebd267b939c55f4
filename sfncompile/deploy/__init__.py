"""Deploying and operating flows on AWS: CloudFormation change sets, production
tokens, starting, listing, inspecting and stopping executions.

Everything talks to AWS through ``aws.Clients`` so that one missing setting,
missing credentials or an unreachable endpoint becomes one clear line.
"""
