# The cluster's secrets are not in this script: they are objects under
# s3://${bucket}/${cluster}/, fetched at boot with this host's instance
# role (its credentials from the metadata service, IMDSv2; the request
# signed by curl's SigV4). Each goes straight to a file only root reads;
# none is printed, and the credentials reach curl through its standard
# input, never its command line. The bucket is in the host's region.
imds() {
  local token
  token=$(curl -sf --retry 5 -X PUT "http://169.254.169.254/latest/api/token" \
    -H "X-aws-ec2-metadata-token-ttl-seconds: 300")
  curl -sf --retry 5 -H "X-aws-ec2-metadata-token: $token" "http://169.254.169.254/latest/$1"
}
fetch_secret() {
  local key=$1 file=$2 region role credentials
  region=$(imds meta-data/placement/region)
  role=$(imds meta-data/iam/security-credentials/)
  credentials=$(imds "meta-data/iam/security-credentials/$role")
  install -d -m 0700 "$(dirname "$file")"
  python3 -c '
import json, sys
c = json.load(sys.stdin)
print("user = \"%s:%s\"" % (c["AccessKeyId"], c["SecretAccessKey"]))
print("header = \"x-amz-security-token: %s\"" % c["Token"])
' <<< "$credentials" | (umask 077 && curl -sf --retry 10 --retry-all-errors --config - \
    --aws-sigv4 "aws:amz:$region:s3" -o "$file" \
    "https://${bucket}.s3.$region.amazonaws.com/$key")
  chmod 0600 "$file"
}
