#!/bin/bash
# A node of ${cluster}: joins the cluster at ${api} (the masters'
# private addresses, inside the VPC), trusting only the cluster's CA
# (pinned by its hash). Written by k8sinfra's stdlib/cluster.
set -euo pipefail
install -m 0600 /dev/null /var/log/k8sinfra-bootstrap.log
exec > >(tee -a /var/log/k8sinfra-bootstrap.log) 2>&1

${install}

${fetch}

# The token, from the nodes' part of the state bucket (all the nodes' role
# may read there).
fetch_secret "${cluster}/nodes/bootstrap-token" /etc/kubernetes/bootstrap-token
token=$(cat /etc/kubernetes/bootstrap-token)

(umask 077 && cat > /etc/kubernetes/kubeadm-join.yaml) <<EOF
apiVersion: kubeadm.k8s.io/v1beta4
kind: JoinConfiguration
discovery:
  bootstrapToken:
    apiServerEndpoint: "${api}:443"
    token: "$token"
    caCertHashes:
      - "${ca_hash}"
nodeRegistration:
  kubeletExtraArgs:
    - name: cloud-provider
      value: external
EOF

# Masters may still be starting, and the record may not be there yet:
# wait for the API, then join.
until curl -ksf --max-time 5 "https://${api}/healthz" > /dev/null; do sleep 10; done
kubeadm join --config /etc/kubernetes/kubeadm-join.yaml
