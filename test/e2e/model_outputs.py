"""model_run's output file (per output blob a line '# <name> <dims...>' then one value per line), read for the
end-to-end checks."""


def read_outputs(path):
    """{name: {'dims': [...], 'values': [floats]}} in file order."""
    blobs, name = {}, None
    with open(path) as f:
        for line in f:
            if line.startswith('#'):
                parts = line[1:].split()
                name = parts[0]
                blobs[name] = {'dims': [int(d) for d in parts[1:]], 'values': []}
            else:
                blobs[name]['values'].append(float(line))
    return blobs


def read_values(path):
    """{name: [floats]}."""
    return {name: blob['values'] for name, blob in read_outputs(path).items()}


def read_arrays(path, np):
    """{name: float32 array of the blob's dims}."""
    return {name: np.array(b['values'], dtype=np.float32).reshape(b['dims']) for name, b in read_outputs(path).items()}
