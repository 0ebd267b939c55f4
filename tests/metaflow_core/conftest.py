# The vendored upstream files are data for the driver, not pytest modules
# (some are named *_test.py and import `metaflow`, which only the driver's
# helper processes provide).
collect_ignore = ["upstream", "support", "driver.py", "execute.py", "generate.py", "api_executor.py"]
