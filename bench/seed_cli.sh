#!/usr/bin/env bash
# The seed chapter's infrastructure made with the aws CLI, one command per
# call, as the chapter does: the same 35 calls as seed_boto3.py. Each
# command is a process of its own (Python start-up and botocore loading).
#   AWS_ENDPOINT_URL=http://127.0.0.1:PORT bench/seed_cli.sh AWS_CLI
set -euo pipefail
aws=${1:-aws}
cd "$(dirname "$0")/.."
q() { "$aws" --output text "$@"; }
vpc=$(q ec2 create-vpc --cidr-block 10.0.0.0/16 --query Vpc.VpcId)
public=$(q ec2 create-subnet --vpc-id "$vpc" --cidr-block 10.0.1.0/24 --availability-zone us-east-1a --query Subnet.SubnetId)
q ec2 modify-subnet-attribute --subnet-id "$public" --map-public-ip-on-launch > /dev/null
private=$(q ec2 create-subnet --vpc-id "$vpc" --cidr-block 10.0.2.0/24 --availability-zone us-east-1b --query Subnet.SubnetId)
igw=$(q ec2 create-internet-gateway --query InternetGateway.InternetGatewayId)
q ec2 attach-internet-gateway --internet-gateway-id "$igw" --vpc-id "$vpc" > /dev/null
rt_public=$(q ec2 create-route-table --vpc-id "$vpc" --query RouteTable.RouteTableId)
q ec2 create-route --route-table-id "$rt_public" --destination-cidr-block 0.0.0.0/0 --gateway-id "$igw" > /dev/null
q ec2 associate-route-table --route-table-id "$rt_public" --subnet-id "$public" > /dev/null
eip=$(q ec2 allocate-address --domain vpc --query AllocationId)
nat=$(q ec2 create-nat-gateway --subnet-id "$public" --allocation-id "$eip" --query NatGateway.NatGatewayId)
q ec2 describe-nat-gateways --nat-gateway-ids "$nat" > /dev/null
rt_private=$(q ec2 create-route-table --vpc-id "$vpc" --query RouteTable.RouteTableId)
q ec2 create-route --route-table-id "$rt_private" --destination-cidr-block 0.0.0.0/0 --nat-gateway-id "$nat" > /dev/null
q ec2 associate-route-table --route-table-id "$rt_private" --subnet-id "$private" > /dev/null
sg_public=$(q ec2 create-security-group --group-name public --description "public facing host" --vpc-id "$vpc" --query GroupId)
q ec2 authorize-security-group-ingress --group-id "$sg_public" --ip-permissions \
  'IpProtocol=tcp,FromPort=22,ToPort=22,IpRanges=[{CidrIp=107.196.102.199/32}]' \
  'IpProtocol=tcp,FromPort=80,ToPort=80,IpRanges=[{CidrIp=0.0.0.0/0}]' > /dev/null
sg_private=$(q ec2 create-security-group --group-name private --description "private subnet host" --vpc-id "$vpc" --query GroupId)
q ec2 authorize-security-group-ingress --group-id "$sg_private" --ip-permissions \
  "IpProtocol=tcp,FromPort=22,ToPort=22,UserIdGroupPairs=[{GroupId=$sg_public}]" \
  "IpProtocol=tcp,FromPort=80,ToPort=80,UserIdGroupPairs=[{GroupId=$sg_public}]" > /dev/null
sg_elb=$(q ec2 create-security-group --group-name elb --description "elb sg" --vpc-id "$vpc" --query GroupId)
q ec2 authorize-security-group-ingress --group-id "$sg_elb" --protocol tcp --port 80 --cidr 0.0.0.0/0 > /dev/null
q ec2 import-key-pair --key-name internal --public-key-material fileb://examples/seed-chapter/internal_rsa.pub > /dev/null
host_public=$(q ec2 run-instances --image-id ami-a4c7edb2 --instance-type t2.nano --key-name internal \
  --subnet-id "$public" --security-group-ids "$sg_public" --query 'Instances[0].InstanceId')
host_private=$(q ec2 run-instances --image-id ami-a4c7edb2 --instance-type t2.nano --key-name internal \
  --subnet-id "$private" --security-group-ids "$sg_private" --query 'Instances[0].InstanceId')
q ec2 describe-instances --instance-ids "$host_public" "$host_private" > /dev/null
volume=$(q ec2 create-volume --availability-zone us-east-1a --size 40 --volume-type standard --query VolumeId)
q ec2 attach-volume --volume-id "$volume" --instance-id "$host_public" --device xvdh > /dev/null
zone=$(q route53 create-hosted-zone --name k8s-devops.net --caller-reference seed-bench-cli --query HostedZone.Id)
dns=$(q elb create-load-balancer --load-balancer-name public-elb --security-groups "$sg_elb" --subnets "$public" \
  --listeners Protocol=HTTP,LoadBalancerPort=80,InstanceProtocol=HTTP,InstancePort=80 --query DNSName)
q elb register-instances-with-load-balancer --load-balancer-name public-elb --instances "$host_public" > /dev/null
q route53 change-resource-record-sets --hosted-zone-id "$zone" --change-batch \
  "{\"Changes\":[{\"Action\":\"UPSERT\",\"ResourceRecordSet\":{\"Name\":\"public.k8s-devops.net\",\"Type\":\"CNAME\",\"TTL\":300,\"ResourceRecords\":[{\"Value\":\"$dns\"}]}}]}" > /dev/null
q s3api create-bucket --bucket k8s-devops > /dev/null
echo '{"Comment": "A record"}' > "${TMPDIR:-/tmp}/add-record.json"
echo '{"Comment": "CNAME to the ELB"}' > "${TMPDIR:-/tmp}/change-to-elb.json"
q s3api put-object --bucket k8s-devops --key add-record.json --body "${TMPDIR:-/tmp}/add-record.json" > /dev/null
q s3api put-object --bucket k8s-devops --key change-to-elb.json --body "${TMPDIR:-/tmp}/change-to-elb.json" > /dev/null
q ec2 describe-instances --instance-ids "$host_public" > /dev/null
