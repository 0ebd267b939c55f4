raise RuntimeError('the flow directory\'s zlib.py was imported by the runtime')
