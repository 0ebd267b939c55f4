raise RuntimeError('the flow directory\'s json.py was imported by the runtime')
