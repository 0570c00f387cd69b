#!/usr/bin/env python3
"""The 200-resource VPC shape (N VPCs with a subnet each, as
`bench/shapes.py vpcs` writes it) made, read and deleted with boto3, one
call after another, the calls k8sinfra makes for it (see `--call-stats`):

  apply:   CreateVpc and CreateSubnet for each, tagged in the call;
  plan:    one DescribeVpcs and one DescribeSubnets, ids in a filter;
  destroy: the same two describes, then DeleteSubnet and DeleteVpc each.

Clients are made beforehand and boto3 imported, untimed: each phase's
time is the calls alone, what the server spends on them. Prints
`apply SECONDS`, `plan SECONDS`, `destroy SECONDS`.

  vpc_shape_boto3.py N
"""
import ipaddress
import sys
import time

import boto3

n = int(sys.argv[1]) if len(sys.argv) > 1 else 100
ec2 = boto3.client("ec2")
tag = lambda kind, name: [{"ResourceType": kind, "Tags": [{"Key": "Name", "Value": name}]}]
f = lambda name, values: [{"Name": name, "Values": values}]
nets = list(ipaddress.ip_network("10.0.0.0/8").subnets(new_prefix=21))

t = time.monotonic()
vpcs, subnets = [], []
for i in range(n):
    vpc = ec2.create_vpc(CidrBlock=str(nets[i]), TagSpecifications=tag("vpc", f"vpc.v{i}"))["Vpc"]["VpcId"]
    cidr = str(list(nets[i].subnets(new_prefix=24))[1])
    subnet = ec2.create_subnet(
        VpcId=vpc, CidrBlock=cidr, AvailabilityZone="us-east-1a", TagSpecifications=tag("subnet", f"subnet.s{i}")
    )["Subnet"]["SubnetId"]
    vpcs.append(vpc)
    subnets.append(subnet)
print(f"apply {time.monotonic() - t}")

t = time.monotonic()
ec2.describe_vpcs(Filters=f("vpc-id", vpcs))
ec2.describe_subnets(Filters=f("subnet-id", subnets))
print(f"plan {time.monotonic() - t}")

t = time.monotonic()
ec2.describe_vpcs(Filters=f("vpc-id", vpcs))
ec2.describe_subnets(Filters=f("subnet-id", subnets))
for subnet in subnets:
    ec2.delete_subnet(SubnetId=subnet)
for vpc in vpcs:
    ec2.delete_vpc(VpcId=vpc)
print(f"destroy {time.monotonic() - t}")
