#!/bin/bash
# A master of ${cluster}: kubeadm with the cluster's pre-made certificate
# authorities, etcd on its own volumes, the AWS cloud provider, the network
# plugin and the default addons. Written by k8sinfra's stdlib/cluster.
set -euo pipefail
# The log is root's alone: kubeadm's own output is not for every user.
install -m 0600 /dev/null /var/log/k8sinfra-bootstrap.log
exec > >(tee -a /var/log/k8sinfra-bootstrap.log) 2>&1

${install}

${fetch}

# etcd's volumes: attached after the instance starts, as the device named
# in the attachment (Xen) or as an NVMe disk carrying the volume's id.
# kubeadm runs one etcd, on the main volume; the events volume is made and
# mounted as kops makes it, for an events cluster kubeadm does not start.
volume_disk() {
  local volume=$1 device=$2 nvme
  nvme="/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_$(echo "$volume" | tr -d -)"
  for _ in $(seq 1 120); do
    if [ -b "$nvme" ]; then echo "$nvme"; return 0; fi
    if [ -b "$device" ]; then echo "$device"; return 0; fi
    sleep 5
  done
  echo "volume $volume never appeared" >&2
  return 1
}

mount_volume() {
  local disk=$1 dir=$2 label=$3
  if ! blkid "$disk" > /dev/null; then
    mkfs.ext4 -L "$label" "$disk"
  fi
  mkdir -p "$dir"
  echo "LABEL=$label $dir ext4 defaults,nofail 0 2" >> /etc/fstab
  mount "$dir"
}

mount_volume "$(volume_disk ${etcd_main} /dev/xvdu)" /var/lib/etcd etcd-main
mount_volume "$(volume_disk ${etcd_events} /dev/xvdv)" /var/lib/etcd-events etcd-events

# The certificate authorities and the service-account key, the same on
# every master, so any master can be rebuilt without the others; the
# bootstrap token nodes join with.
for file in ca.crt ca.key etcd/ca.crt etcd/ca.key front-proxy-ca.crt front-proxy-ca.key sa.key; do
  fetch_secret "${cluster}/pki/$file" "/etc/kubernetes/pki/$file"
done
chmod 0644 /etc/kubernetes/pki/ca.crt /etc/kubernetes/pki/etcd/ca.crt /etc/kubernetes/pki/front-proxy-ca.crt
openssl pkey -in /etc/kubernetes/pki/sa.key -pubout -out /etc/kubernetes/pki/sa.pub
fetch_secret "${cluster}/nodes/bootstrap-token" /etc/kubernetes/bootstrap-token
token=$(cat /etc/kubernetes/bootstrap-token)

# Written with the token in it: root's alone.
(umask 077 && cat > /etc/kubernetes/kubeadm.yaml) <<EOF
apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
bootstrapTokens:
  - token: "$token"
    ttl: "0s"
localAPIEndpoint:
  bindPort: 443
nodeRegistration:
  kubeletExtraArgs:
    - name: cloud-provider
      value: external
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
clusterName: ${cluster}
kubernetesVersion: v${version}
controlPlaneEndpoint: "${api}:443"
apiServer:
  certSANs:
    - ${api}
    - api.${cluster}
    - ${api_public}
networking:
  podSubnet: ${pods}
  serviceSubnet: 100.64.0.0/13
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: JoinConfiguration
discovery:
  bootstrapToken:
    apiServerEndpoint: "${api}:443"
    token: "$token"
    caCertHashes:
      - "${ca_hash}"
controlPlane:
  localAPIEndpoint:
    bindPort: 443
nodeRegistration:
  kubeletExtraArgs:
    - name: cloud-provider
      value: external
EOF

# The first master starts the cluster unless the API already answers at
# ${api} (the masters' private addresses: it is being rebuilt); the others
# join it as control-plane members. Once it serves, a master reaches its
# own API server under that name (/etc/hosts), so it never depends on the
# record being current or on another master.
api_up() {
  curl -ksf --max-time 5 "https://${api}/healthz" > /dev/null
}
serve_locally() {
  echo "127.0.0.1 ${api}" >> /etc/hosts
}
index=${index}
if [ "$index" -eq 0 ] && ! api_up; then
  serve_locally
  kubeadm init --config /etc/kubernetes/kubeadm.yaml --skip-token-print \
    --ignore-preflight-errors=DirAvailable--var-lib-etcd
  export KUBECONFIG=/etc/kubernetes/admin.conf
  kubectl apply -f "${network}"
  kubectl apply -k "https://github.com/kubernetes/cloud-provider-aws/examples/existing-cluster/base/?ref=v1.31.1"
  kubectl apply -k "https://github.com/kubernetes-sigs/aws-ebs-csi-driver/deploy/kubernetes/overlays/stable/?ref=release-1.37"
  kubectl apply -f - <<'EOF'
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: gp3
  annotations:
    storageclass.kubernetes.io/is-default-class: "true"
provisioner: ebs.csi.aws.com
volumeBindingMode: WaitForFirstConsumer
parameters:
  type: gp3
  encrypted: "true"
EOF
  kubectl apply -f "https://raw.githubusercontent.com/kubernetes/ingress-nginx/controller-v1.11.3/deploy/static/provider/aws/deploy.yaml"
else
  until api_up; do sleep 10; done
  kubeadm join --config /etc/kubernetes/kubeadm.yaml --ignore-preflight-errors=DirAvailable--var-lib-etcd
  serve_locally
fi
