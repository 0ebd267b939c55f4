raise RuntimeError('the flow directory\'s sqlite3.py was imported by the runtime')
