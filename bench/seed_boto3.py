"""The seed chapter's infrastructure (examples/seed-chapter) made by a
sequential boto3 script, the way the chapter's aws CLI commands make it:
35 calls, each waiting for the one before, no state kept. The baseline of
`bench/apply-vs-scripts`.

    AWS_ENDPOINT_URL=http://127.0.0.1:PORT python3 bench/seed_boto3.py
"""
import os
import sys

import boto3

here = os.path.dirname(os.path.abspath(__file__))
region = os.environ.get("AWS_REGION", "us-east-1")
ec2 = boto3.client("ec2", region_name=region)
elb = boto3.client("elb", region_name=region)
r53 = boto3.client("route53", region_name=region)
s3 = boto3.client("s3", region_name=region)
image = "ami-a4c7edb2"
calls = 0


def call(fn, **kwargs):
    global calls
    calls += 1
    return fn(**kwargs)


vpc = call(ec2.create_vpc, CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
public = call(ec2.create_subnet, VpcId=vpc, CidrBlock="10.0.1.0/24", AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
call(ec2.modify_subnet_attribute, SubnetId=public, MapPublicIpOnLaunch={"Value": True})
private = call(ec2.create_subnet, VpcId=vpc, CidrBlock="10.0.2.0/24", AvailabilityZone="us-east-1b")["Subnet"]["SubnetId"]
igw = call(ec2.create_internet_gateway)["InternetGateway"]["InternetGatewayId"]
call(ec2.attach_internet_gateway, InternetGatewayId=igw, VpcId=vpc)
rt_public = call(ec2.create_route_table, VpcId=vpc)["RouteTable"]["RouteTableId"]
call(ec2.create_route, RouteTableId=rt_public, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
call(ec2.associate_route_table, RouteTableId=rt_public, SubnetId=public)
eip = call(ec2.allocate_address, Domain="vpc")["AllocationId"]
nat = call(ec2.create_nat_gateway, SubnetId=public, AllocationId=eip)["NatGateway"]["NatGatewayId"]
call(ec2.describe_nat_gateways, NatGatewayIds=[nat])  # the chapter waits for it
rt_private = call(ec2.create_route_table, VpcId=vpc)["RouteTable"]["RouteTableId"]
call(ec2.create_route, RouteTableId=rt_private, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat)
call(ec2.associate_route_table, RouteTableId=rt_private, SubnetId=private)


def group(name, description, rules):
    gid = call(ec2.create_security_group, GroupName=name, Description=description, VpcId=vpc)["GroupId"]
    call(ec2.authorize_security_group_ingress, GroupId=gid, IpPermissions=rules)
    return gid


def tcp(port, cidr=None, group_id=None):
    rule = {"IpProtocol": "tcp", "FromPort": port, "ToPort": port}
    if cidr:
        rule["IpRanges"] = [{"CidrIp": cidr}]
    if group_id:
        rule["UserIdGroupPairs"] = [{"GroupId": group_id}]
    return rule


sg_public = group("public", "public facing host", [tcp(22, "107.196.102.199/32"), tcp(80, "0.0.0.0/0")])
sg_private = group("private", "private subnet host", [tcp(22, group_id=sg_public), tcp(80, group_id=sg_public)])
sg_elb = group("elb", "elb sg", [tcp(80, "0.0.0.0/0")])
with open(os.path.join(here, "..", "examples", "seed-chapter", "internal_rsa.pub"), "rb") as f:
    call(ec2.import_key_pair, KeyName="internal", PublicKeyMaterial=f.read())


def host(subnet, group_id):
    out = call(ec2.run_instances, ImageId=image, InstanceType="t2.nano", MinCount=1, MaxCount=1,
               KeyName="internal", SubnetId=subnet, SecurityGroupIds=[group_id])
    return out["Instances"][0]["InstanceId"]


host_public = host(public, sg_public)
host_private = host(private, sg_private)
call(ec2.describe_instances, InstanceIds=[host_public, host_private])  # the chapter waits for them
volume = call(ec2.create_volume, AvailabilityZone="us-east-1a", Size=40, VolumeType="standard")["VolumeId"]
call(ec2.attach_volume, VolumeId=volume, InstanceId=host_public, Device="xvdh")
zone = call(r53.create_hosted_zone, Name="k8s-devops.net", CallerReference="seed-bench")["HostedZone"]["Id"]
lb = call(elb.create_load_balancer, LoadBalancerName="public-elb", SecurityGroups=[sg_elb], Subnets=[public],
          Listeners=[{"Protocol": "HTTP", "LoadBalancerPort": 80, "InstanceProtocol": "HTTP", "InstancePort": 80}])
call(elb.register_instances_with_load_balancer, LoadBalancerName="public-elb", Instances=[{"InstanceId": host_public}])
call(r53.change_resource_record_sets, HostedZoneId=zone, ChangeBatch={"Changes": [{
    "Action": "UPSERT",
    "ResourceRecordSet": {"Name": "public.k8s-devops.net", "Type": "CNAME", "TTL": 300,
                          "ResourceRecords": [{"Value": lb["DNSName"]}]}}]})
call(s3.create_bucket, Bucket="k8s-devops")
call(s3.put_object, Bucket="k8s-devops", Key="add-record.json", Body=b'{"Comment": "A record"}')
call(s3.put_object, Bucket="k8s-devops", Key="change-to-elb.json", Body=b'{"Comment": "CNAME to the ELB"}')
call(ec2.describe_instances, InstanceIds=[host_public])  # the public host's address, printed by the chapter
print(f"{calls} calls", file=sys.stderr)
