#!/usr/bin/env python3
"""Prints COUNT DPoP proofs (RFC 9449 §4.2) for POST at HTU, one a line, all
by one fresh P-256 key, each with its own jti and iat now: what
bench/wrk/dpop.lua sends, one a request (a proof is accepted once).

    python3 bench/dpop_proofs.py COUNT HTU > proofs.txt
"""
import base64, json, sys, time
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


count, htu = int(sys.argv[1]), sys.argv[2]
key = ec.generate_private_key(ec.SECP256R1())
numbers = key.public_key().public_numbers()
jwk = {"kty": "EC", "crv": "P-256", "x": b64(numbers.x.to_bytes(32, "big")), "y": b64(numbers.y.to_bytes(32, "big"))}
header = b64(json.dumps({"typ": "dpop+jwt", "alg": "ES256", "jwk": jwk}, separators=(",", ":")).encode())
now = int(time.time())
out = sys.stdout
for i in range(count):
    claims = {"jti": f"bench-{now}-{i}", "htm": "POST", "htu": htu, "iat": now}
    signing_input = f"{header}.{b64(json.dumps(claims, separators=(',', ':')).encode())}"
    r, s = decode_dss_signature(key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
    out.write(f"{signing_input}.{b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}\n")
