#!/usr/bin/env python3
"""Refresh what a k8sinfra state holds, two ways, with boto3, one call after
another, and print the time each took (clients made beforehand, untimed):

  bulk:     the calls `k8sinfra plan` makes (as --call-stats lists them):
            one describe per type, a zone listing, a bucket listing, the
            bucket's tags and its two guarding settings;
  one-each: one describe (or get) per resource, the way a refresh without
            bulk reads goes.

The bulk time is what the server itself spends on k8sinfra's calls: the
floor for a plan against this server, which answers one call at a time.

  refresh_boto3.py STATE_JSON
"""
import json
import sys
import time

import boto3

state = json.load(open(sys.argv[1]))["resources"]
by_type = {}
for r in state.values():
    by_type.setdefault(r["type"], []).append(r)
ids = lambda t: [r["id"] for r in by_type.get(t, [])]

ec2, r53, s3 = boto3.client("ec2"), boto3.client("route53"), boto3.client("s3")
f = lambda name, values: [{"Name": name, "Values": values}]


def bulk():
    calls = 0
    # The VPCs' DNS attributes and the bucket's versioning are read only
    # where the configuration writes them; bench/generate.py writes none.
    for kind, call, name in [
        ("vpc", ec2.describe_vpcs, "vpc-id"),
        ("subnet", ec2.describe_subnets, "subnet-id"),
        ("security_group", ec2.describe_security_groups, "group-id"),
        ("route_table", ec2.describe_route_tables, "route-table-id"),
        ("internet_gateway", ec2.describe_internet_gateways, "internet-gateway-id"),
        ("elastic_ip", ec2.describe_addresses, "allocation-id"),
        ("ebs_volume", ec2.describe_volumes, "volume-id"),
    ]:
        if ids(kind):
            call(Filters=f(name, ids(kind)))
            calls += 1
    if ids("key_pair"):
        ec2.describe_key_pairs(Filters=f("key-name", ids("key_pair")), IncludePublicKey=True)
        calls += 1
    if ids("volume_attachment"):
        ec2.describe_volumes(Filters=f("volume-id", [i.split(":")[0] for i in ids("volume_attachment")]))
        calls += 1
    if ids("instance"):
        out = ec2.describe_instances(Filters=f("instance-id", ids("instance")))
        roots = [
            m["Ebs"]["VolumeId"]
            for r in out["Reservations"]
            for i in r["Instances"]
            for m in i.get("BlockDeviceMappings", [])
            if m["DeviceName"] == i.get("RootDeviceName")
        ]
        calls += 1
        if roots:
            ec2.describe_volumes(Filters=f("volume-id", roots))
            calls += 1
    for zone in ids("dns_zone"):
        r53.get_hosted_zone(Id=zone)
        r53.list_tags_for_resource(ResourceType="hostedzone", ResourceId=zone)
        calls += 2
    for zone in {i.split("_")[0] for i in ids("dns_record")}:
        r53.list_resource_record_sets(HostedZoneId=zone, MaxItems="300")
        calls += 1
    for bucket in ids("s3_bucket"):
        s3.get_bucket_tagging(Bucket=bucket)
        s3.get_bucket_encryption(Bucket=bucket)
        s3.get_public_access_block(Bucket=bucket)
        calls += 3
    for bucket in {i.split("/", 1)[0] for i in ids("s3_object")}:
        s3.list_objects_v2(Bucket=bucket)
        calls += 1
    return calls


def one_each():
    calls = 0
    for r in state.values():
        t, i = r["type"], r["id"]
        if t == "vpc":
            ec2.describe_vpcs(VpcIds=[i])
        elif t == "subnet":
            ec2.describe_subnets(SubnetIds=[i])
        elif t == "security_group":
            ec2.describe_security_groups(GroupIds=[i])
        elif t == "route_table":
            ec2.describe_route_tables(RouteTableIds=[i])
        elif t == "internet_gateway":
            ec2.describe_internet_gateways(InternetGatewayIds=[i])
        elif t == "elastic_ip":
            ec2.describe_addresses(AllocationIds=[i])
        elif t == "ebs_volume":
            ec2.describe_volumes(VolumeIds=[i])
        elif t == "volume_attachment":
            ec2.describe_volumes(VolumeIds=[i.split(":")[0]])
        elif t == "key_pair":
            ec2.describe_key_pairs(KeyNames=[i])
        elif t == "instance":
            ec2.describe_instances(InstanceIds=[i])
        elif t == "dns_zone":
            r53.get_hosted_zone(Id=i)
        elif t == "dns_record":
            zone, rest = i.split("_", 1)
            name, kind = rest.rsplit("_", 1)
            r53.list_resource_record_sets(HostedZoneId=zone, StartRecordName=name, StartRecordType=kind, MaxItems="1")
        elif t == "s3_bucket":
            s3.head_bucket(Bucket=i)
        elif t == "s3_object":
            bucket, key = i.split("/", 1)
            s3.head_object(Bucket=bucket, Key=key)
        else:
            continue
        calls += 1
    return calls


for name, run in (("bulk", bulk), ("one-each", one_each)):
    started = time.monotonic()
    calls = run()
    print(f"boto3 {name}: {calls} calls, {(time.monotonic() - started) * 1000:.0f} ms")
