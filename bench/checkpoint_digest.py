# Same-seed check (bench/same_seed.sh): prints, per run, the hash of every tensor's bytes in a checkpoint and the epoch metrics
# without wall-clock fields. Usage: digest.py file.safetensors...
import sys, json, struct, hashlib
for path in sys.argv[1:]:
    data = open(path, 'rb').read()
    n = struct.unpack('<Q', data[:8])[0]
    header = json.loads(data[8:8+n]); body = data[8+n:]
    meta = header.pop('__metadata__', {})
    h = hashlib.sha256()
    for name in sorted(header):
        a, b = header[name]['data_offsets']; h.update(name.encode()); h.update(body[a:b])
    metrics = json.loads(meta.get('metrics', '[]'))
    keep = [{k: v for k, v in m.items() if k not in ('seconds', 'elapsed_s', 'images_per_s')} for m in metrics]
    print(path.split('/')[-1], h.hexdigest()[:16], hashlib.sha256(json.dumps(keep, sort_keys=True).encode()).hexdigest()[:16], 'step', meta.get('step'))
