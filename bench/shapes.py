#!/usr/bin/env python3
"""Write a configuration of about N resources in one of the benchmark
shapes into DIR (a folder: the module-nesting shape has one folder per
level).

    bench/shapes.py SHAPE N DIR
    bench/shapes.py --list

Each shape stresses one way configurations grow; together they are the set
on which checking and planning must stay linear (issue 16). A shape that
uses only what `generate.py` and `generate_lets.py` write is theirs.
"""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK3IDuywFJ67sA7VzrCP2iPSs6H/FSZvWSm0V/eGmIhv bench"
HEAD = 'aws { region = "us-east-1" }\n\ns3_bucket b {\n  name       = "bench-shapes"\n  versioning = true\n}\n'


def groups(n, out):
    """Independent groups of ten related resources (generate.py)."""
    out.write(subprocess.run([sys.executable, os.path.join(HERE, "generate.py"), str(n)],
                             check=True, capture_output=True, text=True).stdout)


def lets_bound(n, out):
    """Half the resources named by a let each, half referring to them
    (generate_lets.py)."""
    out.write(subprocess.run([sys.executable, os.path.join(HERE, "generate_lets.py"), str(n)],
                             check=True, capture_output=True, text=True).stdout)


def let_chain(n, out):
    """Each let refers to the one before it (a counter built step by step),
    and each resource to its let: the dependency walk must not follow the
    chain again for every resource."""
    out.write(HEAD)
    out.write("\nlet c0 = 0\n")
    for i in range(1, n):
        out.write(f"let c{i} = c{i - 1} + 1\n")
    for i in range(1, n):
        out.write(f'\nkey_pair k{i} {{\n  name       = format("node-%d", c{i})\n  public_key = "{KEY}"\n}}\n')


def resource_chain(n, out):
    """Each resource refers to the one before it: a dependency chain N deep."""
    out.write(HEAD)
    out.write('\ns3_object o0 {\n  bucket  = s3_bucket.b.name\n  key     = "o/0"\n  content = "first"\n}\n')
    for i in range(1, n - 1):
        out.write(f'\ns3_object o{i} {{\n  bucket  = s3_bucket.b.name\n  key     = "o/{i}"\n'
                  f'  content = s3_object.o{i - 1}.key\n}}\n')


def fan_in(n, out):
    """One VPC that every other resource refers to."""
    out.write('aws { region = "us-east-1" }\n\nvpc main {\n  cidr = 10.0.0.0/16\n}\n')
    for i in range(n - 1):
        out.write(f'\nroute_table r{i} {{\n  vpc = vpc.main\n}}\n')


def fan_out(n, out):
    """One resource that refers to all the others through a splat."""
    out.write(HEAD)
    out.write(f'\ns3_object part {{\n  count   = {n - 2}\n  bucket  = s3_bucket.b.name\n'
              f'  key     = "parts/${{count.index}}"\n  content = "part ${{count.index}}"\n}}\n')
    out.write('\ns3_object index {\n  bucket  = s3_bucket.b.name\n  key     = "index.json"\n'
              '  content = jsonencode(s3_object.part[*].key)\n}\n')


DEPTH = 10


def module_nesting(n, out_dir):
    """Modules calling modules DEPTH deep (fewer below 1,023 resources),
    each level twice through `for_each`: 2^depth - 1 module instances under
    each root call, one object in each, and as many root calls as make N."""
    depth = min(DEPTH, max(1, (n + 1).bit_length() - 1))
    calls = max(1, round(n / (2 ** depth - 1)))
    with open(os.path.join(out_dir, "main.k8sinfra"), "w") as out:
        out.write(HEAD)
        out.write(f'\nmodule top = "./level1" {{\n  for_each = [for i in range({calls}) : "t${{i}}"]\n'
                  f'  bucket   = s3_bucket.b.name\n  prefix   = each.key\n}}\n')
    for level in range(1, depth + 1):
        folder = os.path.join(out_dir, *[f"level{i}" for i in range(1, level + 1)])
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "main.k8sinfra"), "w") as out:
            out.write('input bucket: string\ninput prefix: string\n')
            out.write('\ns3_object here {\n  bucket  = input.bucket\n  key     = "${input.prefix}/object"\n'
                      f'  content = "level {level}"\n}}\n')
            if level < depth:
                out.write(f'\nmodule below = "./level{level + 1}" {{\n  for_each = ["a", "b"]\n'
                          '  bucket   = input.bucket\n  prefix   = "${input.prefix}/${each.key}"\n}\n')
            out.write('\noutput key = s3_object.here.key\n')


def for_maps(n, out):
    """Big `for` expressions and maps: N names built in one list, turned
    into a map, filtered, and the resources made from it by `for_each`."""
    out.write(HEAD)
    out.write(f'\nlet names = [for i in range({n - 1}) : format("node-%d", i)]\n')
    out.write('let by_name = { for i, name in names : name => { index = i, upper = upper(name) } }\n')
    out.write('let even = { for name, v in by_name : name => v if v.index % 2 == 0 }\n')
    out.write('let odd = { for name, v in by_name : name => v if v.index % 2 == 1 }\n')
    out.write('\ns3_object o {\n  for_each = merge(even, odd)\n  bucket   = s3_bucket.b.name\n'
              '  key      = "objects/${each.key}"\n  content  = jsonencode(each.value)\n}\n')


def vpcs(n, out):
    """N/2 VPCs with a subnet each, written out: the shape refresh must
    read in a call per type (`bench/vpc-shape` applies it to moto)."""
    out.write('aws { region = "us-east-1" }\n')
    for i in range(n // 2):
        out.write(f'\nvpc v{i} {{\n  cidr = cidrsubnet(10.0.0.0/8, 13, {i})\n}}\n'
                  f'\nsubnet s{i} {{\n  vpc  = vpc.v{i}\n  cidr = cidrsubnet(vpc.v{i}.cidr, 3, 1)\n'
                  f'  zone = "us-east-1a"\n}}\n')


SHAPES = {
    "groups": groups,
    "lets-bound": lets_bound,
    "let-chain": let_chain,
    "resource-chain": resource_chain,
    "fan-in": fan_in,
    "fan-out": fan_out,
    "module-nesting": module_nesting,
    "for-maps": for_maps,
    "vpcs": vpcs,
}


def main():
    if sys.argv[1:] == ["--list"]:
        print("\n".join(SHAPES))
        return
    if len(sys.argv) != 4 or sys.argv[1] not in SHAPES:
        sys.exit(f"usage: shapes.py SHAPE N DIR  (SHAPE: {', '.join(SHAPES)})")
    shape, n, out_dir = SHAPES[sys.argv[1]], int(sys.argv[2]), sys.argv[3]
    os.makedirs(out_dir, exist_ok=True)
    if shape is module_nesting:
        shape(n, out_dir)
    else:
        with open(os.path.join(out_dir, "main.k8sinfra"), "w") as out:
            shape(n, out)


if __name__ == "__main__":
    main()
