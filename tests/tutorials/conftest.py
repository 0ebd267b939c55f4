# The tutorials' flow files import `metaflow`; they are data, run by the tests.
collect_ignore = ["metaflow_tutorials", "record.py", "episodes.py"]
