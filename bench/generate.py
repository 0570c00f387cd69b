#!/usr/bin/env python3
"""Write a configuration of N resources (default 10,000) to stdout.

One VPC and an internet gateway, then groups of ten resources that refer to
each other the way real configurations do: a subnet carved with
cidrsubnet(), a security group with rules, an instance, an elastic IP, a
volume and its attachment, a route table, a DNS record, an S3 object.
"""
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
groups = (n - 4) // 10
key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK3IDuywFJ67sA7VzrCP2iPSs6H/FSZvWSm0V/eGmIhv bench"

print('aws { region = "us-east-1" }\n')
print("vpc main {\n  cidr = 10.0.0.0/16\n}\n")
print("internet_gateway main {\n  vpc = vpc.main\n}\n")
print('dns_zone main {\n  name = "bench.example.com"\n}\n')
print('s3_bucket files {\n  name = "bench-files"\n}\n')
for g in range(groups):
    zone = "us-east-1" + "abc"[g % 3]
    print(f"""subnet s{g} {{
  vpc  = vpc.main
  cidr = cidrsubnet(vpc.main.cidr, 12, {g})
  zone = "{zone}"
}}

security_group g{g} {{
  vpc         = vpc.main
  description = "group {g}"
  ingress {{
    protocol    = "tcp"
    port        = 22
    cidrs       = [subnet.s{g}.cidr]
    description = "SSH"
  }}
  ingress {{
    protocol    = "tcp"
    port        = 8000..8080
    self        = true
    description = "app"
  }}
}}

key_pair k{g} {{
  public_key = "{key}"
}}

instance i{g} {{
  image           = "ami-a4c7edb2"
  type            = "t3.micro"
  key_pair        = key_pair.k{g}
  subnet          = subnet.s{g}
  security_groups = [security_group.g{g}]
  tags            = {{ Name = "node-${{{g} + 1}}" }}
}}

elastic_ip e{g} {{
  instance = instance.i{g}
}}

ebs_volume v{g} {{
  zone = subnet.s{g}.zone
  size = {10 + g % 90}
}}

volume_attachment a{g} {{
  volume   = ebs_volume.v{g}
  instance = instance.i{g}
  device   = "xvdh"
}}

route_table r{g} {{
  vpc     = vpc.main
  subnets = [subnet.s{g}]
  route {{ cidr = 0.0.0.0/0, internet_gateway = internet_gateway.main }}
}}

dns_record d{g} {{
  zone    = dns_zone.main
  name    = "n{g}.bench.example.com"
  type    = "A"
  records = [elastic_ip.e{g}.public_ip]
}}

s3_object o{g} {{
  bucket  = s3_bucket.files
  key     = "nodes/{g}.json"
  content = jsonencode({{ subnet = subnet.s{g}.cidr, zone = subnet.s{g}.zone }})
}}
""")
