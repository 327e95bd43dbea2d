#!/usr/bin/env python3
"""Writes the small seed corpora under fuzz/corpus/ (valid tiny files plus truncated and
mutated variants). The replay drivers run every seed as a unit test; libFuzzer starts from them.
Run from the repository root: python3 fuzz/make_seeds.py"""
import json
import os
import struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def gguf_string(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def tiny_gguf(n_kv_override=None, magic=b"GGUF", version=3, offset1=32, dims0=(4, 2)):
    kv = []
    kv.append(gguf_string("general.architecture") + struct.pack("<I", 8) + gguf_string("llama"))
    kv.append(gguf_string("llama.block_count") + struct.pack("<II", 4, 1))
    kv.append(gguf_string("llama.attention.layer_norm_rms_epsilon") + struct.pack("<If", 6, 1e-5))
    toks = [b"<unk>", b"<s>", b"</s>", b"a"]
    kv.append(gguf_string("tokenizer.ggml.tokens") + struct.pack("<IIQ", 9, 8, len(toks)) +
              b"".join(struct.pack("<Q", len(t)) + t for t in toks))
    kv.append(gguf_string("tokenizer.ggml.token_type") + struct.pack("<IIQ", 9, 5, 4) +
              struct.pack("<4i", 2, 3, 3, 1))
    tensors = [("t0", list(dims0), 0, 0), ("t1", [8], 1, offset1)]
    head = magic + struct.pack("<IQQ", version, len(tensors),
                               len(kv) if n_kv_override is None else n_kv_override)
    head += b"".join(kv)
    for name, ne, ty, off in tensors:
        head += gguf_string(name) + struct.pack("<I", len(ne)) + b"".join(struct.pack("<Q", d) for d in ne)
        head += struct.pack("<IQ", ty, off)
    head += b"\0" * ((32 - len(head) % 32) % 32)
    data = struct.pack("<8f", *range(8)) + struct.pack("<8H", *([0x3C00] * 8)) + b"\0" * 16
    return head + data


def tiny_safetensors(header=None, data=None):
    if header is None:
        header = {"__metadata__": {"format": "pt"},
                  "a": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]},
                  "b": {"dtype": "BF16", "shape": [4], "data_offsets": [16, 24]}}
    h = json.dumps(header).encode() if not isinstance(header, bytes) else header
    h += b" " * ((8 - (len(h) + 8) % 8) % 8)
    if data is None:
        data = struct.pack("<4f", 1, 2, 3, 4) + struct.pack("<4H", 0x3F80, 0x4000, 0x4040, 0x4080)
    return struct.pack("<Q", len(h)) + h + data


def write(sub, name, b):
    d = os.path.join(ROOT, sub)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(b)


def main():
    g = tiny_gguf()
    write("gguf", "valid.gguf", g)
    for cut in (3, 4, 8, 16, 24, 40, 60, 100, 200, len(g) - 80, len(g) - 1):
        write("gguf", f"trunc_{cut}.gguf", g[:cut])
    write("gguf", "bad_magic.gguf", tiny_gguf(magic=b"GGUG"))
    write("gguf", "version1.gguf", tiny_gguf(version=1))
    write("gguf", "huge_kv.gguf", tiny_gguf(n_kv_override=1 << 62))
    write("gguf", "misaligned.gguf", tiny_gguf(offset1=33))
    write("gguf", "offset_out.gguf", tiny_gguf(offset1=4096))
    write("gguf", "dims_overflow.gguf", tiny_gguf(dims0=(1 << 62, 1)))
    s = tiny_safetensors()
    write("safetensors", "valid.safetensors", s)
    for cut in (0, 7, 8, 20, len(s) - 9, len(s) - 1):
        write("safetensors", f"trunc_{cut}.safetensors", s[:cut])
    write("safetensors", "bad_json.safetensors", tiny_safetensors(header=b'{"a":{"dtype":'))
    write("safetensors", "huge_len.safetensors", struct.pack("<Q", 1 << 40) + s[8:])
    write("safetensors", "overlap.safetensors", tiny_safetensors(header={
        "a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},
        "b": {"dtype": "F32", "shape": [2], "data_offsets": [8, 16]}}))
    write("safetensors", "unknown_dtype.safetensors", tiny_safetensors(header={
        "a": {"dtype": "Q9", "shape": [4], "data_offsets": [0, 16]}}))
    write("safetensors", "i64.safetensors", tiny_safetensors(header={
        "a": {"dtype": "I64", "shape": [2], "data_offsets": [0, 16]}}))
    write("safetensors", "offsets_out.safetensors", tiny_safetensors(header={
        "a": {"dtype": "F32", "shape": [64], "data_offsets": [0, 256]}}))


if __name__ == "__main__":
    main()
