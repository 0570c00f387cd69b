#!/usr/bin/env python3
"""Write a configuration of N resources (default 10,000) to stdout, half of
them bound through `let` and the other half referring to them: N/2 lets
(each a name built with an expression), N/2 key pairs named by those lets,
and N/2 objects whose key and content refer to the key pairs and the lets.
The shape on which a parser that copies every binding per block goes
quadratic.
"""
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
half = n // 2
key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK3IDuywFJ67sA7VzrCP2iPSs6H/FSZvWSm0V/eGmIhv bench"

print('aws { region = "us-east-1" }\n')
print('s3_bucket keys {\n  name       = "bench-keys"\n  versioning = true\n}\n')
for i in range(half):
    print(f"""let name_{i} = format("node-%d", {i})

key_pair k{i} {{
  name       = name_{i}
  public_key = "{key}"
}}

s3_object o{i} {{
  bucket  = s3_bucket.keys.name
  key     = "keys/${{key_pair.k{i}.name}}.pub"
  content = jsonencode({{ name = name_{i}, key = key_pair.k{i}.public_key }})
}}
""")
