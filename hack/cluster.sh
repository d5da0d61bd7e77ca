#!/usr/bin/env bash
# cluster.sh runs a real one-node Kubernetes cluster for the end-to-end suite (test/cluster):
# etcd, kube-apiserver, kube-controller-manager, kube-scheduler, containerd + runc, kubelet,
# kube-proxy (iptables), a CNI bridge and CoreDNS, all inside a network namespace of its own
# (NETNS) that has a loopback and a node address and NO uplink: the bridge, the iptables rules,
# forwarding and every pod address live there, and nothing can leave the machine.
#
# Usage (root, Linux):
#   hack/cluster.sh up [IMAGE.tar ...]   start the node (idempotent: a running one is kept),
#                                        import the image tarballs; prints the kubeconfig
#   hack/cluster.sh down                 stop and remove everything up did (safe to repeat)
#   hack/cluster.sh kubectl ARGS...      kubectl against the cluster, inside the namespace
#   hack/cluster.sh exec CMD...          run CMD inside the node's network namespace
#   hack/cluster.sh import IMAGE.tar...  import more image tarballs
#   hack/cluster.sh restart-kubelet      stop kubelet and start it again (pods keep running)
#   hack/cluster.sh check                exit 0 when this machine can run the cluster, else
#                                        print what is missing
#
# The API server listens on NODE_IP:6443 inside the namespace; reach it from the host with
# `hack/cluster.sh kubectl` or by running a program there (`hack/cluster.sh exec`), as the suite
# does. Binaries are built once into bin/k8s/<version>/ (hack/control-plane.sh,
# hack/cluster/binaries.sh); Debian packages are installed when missing.
# Env: CLUSTER_DIR (state, default /tmp/phoneop-cluster), NETNS (default phoneop-e2e),
#      NODE_IP (default 10.99.0.2).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
K8S_VERSION=${K8S_VERSION:-v1.37.2}
BIN="$root/bin/k8s/$K8S_VERSION"
R=${CLUSTER_DIR:-/tmp/phoneop-cluster}
NETNS=${NETNS:-phoneop-e2e}
NODE_IP=${NODE_IP:-10.99.0.2}
NODE_NAME=e2e-node
SERVICE_CIDR=10.96.0.0/16
KUBERNETES_SVC_IP=10.96.0.1
DNS_SVC_IP=10.96.0.10
POD_CIDR=10.244.0.0/24
APISERVER="https://$NODE_IP:6443"
PKI=$R/pki
CONTAINERD_SOCK=$R/containerd/containerd.sock
export KUBECONFIG=$R/admin.kubeconfig
TOOLS_IMAGE=e2e.local/tools:1
COREDNS_IMAGE=e2e.local/coredns:1

log() { echo "cluster: $*" >&2; }
die() { echo "cluster: $*" >&2; exit 1; }

# in_ns runs a command in the node's network namespace only. nsenter --net keeps the host's
# mount namespace (unlike `ip netns exec`), so kubelet's volume mounts and containerd's
# container mounts see each other, and exec keeps the PID we record.
in_ns() { nsenter --net="/run/netns/$NETNS" -- "$@"; }
kctl() { in_ns kubectl --kubeconfig "$KUBECONFIG" "$@"; }
ctr_() { ctr --address "$CONTAINERD_SOCK" "$@"; }

# --- what this machine needs -----------------------------------------------------------------

# missing prints one line per thing the cluster needs that is absent and cannot be installed.
missing() {
  [ "$(uname -s)" = Linux ] || { echo "not Linux ($(uname -s))"; return; }
  [ "$(id -u)" = 0 ] || echo "not root (the node needs network namespaces, mounts and cgroups)"
  command -v nsenter >/dev/null || echo "nsenter (util-linux) not found"
  command -v kubectl >/dev/null || echo "kubectl not found on PATH"
  command -v openssl >/dev/null || echo "openssl not found"
  command -v go >/dev/null || echo "go not found"
}

install_packages() {
  local need=()
  command -v containerd >/dev/null || need+=(containerd)
  command -v runc >/dev/null || need+=(runc)
  [ -x /usr/lib/cni/bridge ] || need+=(containernetworking-plugins)
  command -v iptables >/dev/null || need+=(iptables)
  command -v conntrack >/dev/null || need+=(conntrack)
  [ ${#need[@]} -eq 0 ] && return
  log "installing from Debian: ${need[*]}"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
}

# binaries builds (once) the control plane and node binaries and the images' programs.
binaries() {
  K8S_VERSION=$K8S_VERSION "$root/hack/control-plane.sh" >/dev/null
  K8S_VERSION=$K8S_VERSION "$root/hack/cluster/binaries.sh" >/dev/null
  mkdir -p "$R/build"
  local p
  for p in pause kprobe ocitar; do
    (cd "$root" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$R/build/$p" "./hack/cluster/$p")
  done
}

# images writes the pod sandbox + probe image and the CoreDNS image (no registry here).
images() {
  "$R/build/ocitar" -name "$TOOLS_IMAGE" -out "$R/build/tools.tar" -entrypoint /pause \
    /pause="$R/build/pause" /kprobe="$R/build/kprobe"
  "$R/build/ocitar" -name "$COREDNS_IMAGE" -out "$R/build/coredns.tar" -entrypoint /coredns \
    /coredns="$BIN/coredns"
}

# --- the network namespace -----------------------------------------------------------------

# netns creates the node's namespace: loopback, and the node's interface holding its address
# with a default route (components look for "the" node interface). The interface is one end of
# a veth pair whose other end stays in the same namespace, unaddressed: it is the node's uplink
# to nowhere, so nothing sent out of it leaves the namespace. (A dummy device would do, but
# these kernels have no dummy module.)
netns() {
  if [ -e "/run/netns/$NETNS" ]; then
    in_ns ip -4 addr show dev node0 2>/dev/null | grep -q "$NODE_IP/" && return
    ip netns del "$NETNS" # half-made by an interrupted up
  fi
  ip netns add "$NETNS"
  in_ns ip link set lo up
  in_ns ip link add node0 type veth peer name node0-nowhere
  in_ns ip addr add "$NODE_IP/24" dev node0
  in_ns ip link set node0-nowhere up
  in_ns ip link set node0 up
  in_ns ip route add default dev node0
  # Per-namespace settings: the bridge plugin forwards between pods and Services; these never
  # change the host's values.
  in_ns sysctl -qw net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1 net.ipv4.conf.all.route_localnet=1
  # What leaves through node0 arrives on its peer: never forward it from there (it would be
  # routed back out of node0 until its TTL ran out). Set after ip_forward, which resets it.
  in_ns sysctl -qw net.ipv4.conf.node0-nowhere.forwarding=0
}

# --- host state that cannot live in the namespace -------------------------------------------

# record_host notes, once, what up may change outside the namespace so down can restore it:
# global sysctls kubelet sets, and host paths kubelet and CNI hard-code.
record_host() {
  [ -f "$R/sysctl.orig" ] || sysctl -e vm.overcommit_memory vm.panic_on_oom kernel.panic \
    kernel.panic_on_oops kernel.keys.root_maxkeys kernel.keys.root_maxbytes >"$R/sysctl.orig"
  if [ ! -f "$R/host-paths.new" ]; then
    local d
    for d in /var/log/containers /var/log/pods /var/lib/cni /etc/cni; do [ -e "$d" ] || echo "$d"; done >"$R/host-paths.new"
  fi
  [ -f "$R/netns.before" ] || ls /run/netns >"$R/netns.before" 2>/dev/null || : >"$R/netns.before"
}

# --- certificates and kubeconfigs ----------------------------------------------------------

# cert NAME CN [O] [SANs]: a P-256 key and a certificate from the cluster CA.
cert() {
  local name=$1 cn=$2 o=${3:-} sans=${4:-} subj
  [ -f "$PKI/$name.crt" ] && return
  subj="/CN=$cn"; [ -n "$o" ] && subj="/O=$o$subj"
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$PKI/$name.key" \
    -out "$PKI/$name.csr" -subj "$subj" 2>/dev/null
  {
    echo "basicConstraints=CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    if [ -n "$sans" ]; then echo "extendedKeyUsage=serverAuth"; echo "subjectAltName=$sans"; else echo "extendedKeyUsage=clientAuth"; fi
  } >"$PKI/$name.ext"
  openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
    -days 7 -extfile "$PKI/$name.ext" -out "$PKI/$name.crt" 2>/dev/null
  rm -f "$PKI/$name.csr" "$PKI/$name.ext"
}

kubeconfig() { # NAME CERT
  cat >"$R/$1.kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters:
- name: e2e
  cluster: {server: "$APISERVER", certificate-authority: $PKI/ca.crt}
users:
- name: $1
  user: {client-certificate: $PKI/$2.crt, client-key: $PKI/$2.key}
contexts:
- name: e2e
  context: {cluster: e2e, user: $1}
current-context: e2e
KC
}

pki() {
  mkdir -p "$PKI"
  [ -f "$PKI/ca.crt" ] || openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 7 \
    -keyout "$PKI/ca.key" -out "$PKI/ca.crt" -subj "/CN=phoneop-e2e-ca" 2>/dev/null
  cert apiserver kube-apiserver "" "DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:$KUBERNETES_SVC_IP,IP:$NODE_IP,IP:127.0.0.1"
  cert admin admin system:masters
  cert apiserver-kubelet-client kube-apiserver-kubelet-client system:masters
  cert controller-manager system:kube-controller-manager
  cert scheduler system:kube-scheduler
  cert kubelet "system:node:$NODE_NAME" system:nodes
  cert kube-proxy system:kube-proxy
  [ -f "$PKI/sa.key" ] || { openssl genrsa -out "$PKI/sa.key" 2048 2>/dev/null; openssl rsa -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null; }
  kubeconfig admin admin
  kubeconfig controller-manager controller-manager
  kubeconfig scheduler scheduler
  kubeconfig kubelet kubelet
  kubeconfig kube-proxy kube-proxy
}

# --- processes -------------------------------------------------------------------------------

# start NAME CMD...: runs CMD in the namespace in its own session, PID in pids/NAME, output in
# logs/NAME.log. A process still running from an earlier up is kept.
start() {
  local name=$1; shift
  if [ -f "$R/pids/$name" ] && kill -0 "$(cat "$R/pids/$name")" 2>/dev/null; then return; fi
  setsid nsenter --net="/run/netns/$NETNS" -- "$@" >"$R/logs/$name.log" 2>&1 </dev/null &
  echo $! >"$R/pids/$name"
}

# wait_for WHAT SECONDS CMD...: polls CMD every 0.2 s until it succeeds.
wait_for() {
  local what=$1 deadline=$((SECONDS + $2)); shift 2
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || die "timed out waiting for $what (logs: $R/logs)"
    sleep 0.2
  done
  log "$what ($((SECONDS - t0)) s)"
}

start_containerd() {
  mkdir -p "$R/containerd" "$R/cni/net.d" "$R/cni/ipam"
  cat >"$R/containerd.toml" <<TOML
version = 2
root = "$R/containerd/root"
state = "$R/containerd/state"
[grpc]
  address = "$CONTAINERD_SOCK"
[ttrpc]
  address = "$CONTAINERD_SOCK.ttrpc"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$TOOLS_IMAGE"
  enable_selinux = false
  # No CAP_SYS_RESOURCE on these machines: negative oom_score_adj is refused.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$R/cni/net.d"
TOML
  cat >"$R/cni/net.d/10-e2e.conflist" <<JSON
{
  "cniVersion": "1.0.0",
  "name": "e2e-net",
  "plugins": [
    {"type": "bridge", "bridge": "e2e-cni0", "isGateway": true, "ipMasq": false, "hairpinMode": true,
     "ipam": {"type": "host-local", "dataDir": "$R/cni/ipam",
              "ranges": [[{"subnet": "$POD_CIDR"}]], "routes": [{"dst": "0.0.0.0/0"}]}},
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
JSON
  start containerd containerd --config "$R/containerd.toml"
  wait_for "containerd up" 30 ctr_ version
}

start_control_plane() {
  start etcd "$BIN/etcd" --name e2e --data-dir "$R/etcd" \
    --listen-client-urls "http://127.0.0.1:23790" --advertise-client-urls "http://127.0.0.1:23790" \
    --listen-peer-urls "http://127.0.0.1:23800" --initial-advertise-peer-urls "http://127.0.0.1:23800" \
    --initial-cluster "e2e=http://127.0.0.1:23800" --unsafe-no-fsync --log-level warn
  # The service-account issuer is this API server, which serves its OIDC discovery document
  # and keys (JWKS) at the issuer URL: the Graph emulator verifies workload identity tokens
  # with them, as Entra verifies an AKS cluster's.
  start kube-apiserver "$BIN/kube-apiserver" --etcd-servers http://127.0.0.1:23790 \
    --bind-address "$NODE_IP" --advertise-address "$NODE_IP" --secure-port 6443 \
    --service-cluster-ip-range "$SERVICE_CIDR" \
    --tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" --client-ca-file "$PKI/ca.crt" \
    --kubelet-client-certificate "$PKI/apiserver-kubelet-client.crt" --kubelet-client-key "$PKI/apiserver-kubelet-client.key" \
    --kubelet-preferred-address-types InternalIP \
    --service-account-issuer "$APISERVER" --service-account-jwks-uri "$APISERVER/openid/v1/jwks" \
    --service-account-key-file "$PKI/sa.pub" --service-account-signing-key-file "$PKI/sa.key" \
    --authorization-mode Node,RBAC --enable-admission-plugins NodeRestriction \
    --allow-privileged=true --profiling=false --cert-dir "$R/apiserver-certs"
  wait_for "kube-apiserver ready" 120 kctl get --raw /readyz
  start kube-controller-manager "$BIN/kube-controller-manager" --kubeconfig "$R/controller-manager.kubeconfig" \
    --authentication-kubeconfig "$R/controller-manager.kubeconfig" --authorization-kubeconfig "$R/controller-manager.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port 10257 --cert-dir "$R/kcm-certs" \
    --service-account-private-key-file "$PKI/sa.key" --root-ca-file "$PKI/ca.crt" \
    --cluster-signing-cert-file "$PKI/ca.crt" --cluster-signing-key-file "$PKI/ca.key" \
    --use-service-account-credentials=true --leader-elect=false --service-cluster-ip-range "$SERVICE_CIDR"
  start kube-scheduler "$BIN/kube-scheduler" --kubeconfig "$R/scheduler.kubeconfig" \
    --authentication-kubeconfig "$R/scheduler.kubeconfig" --authorization-kubeconfig "$R/scheduler.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port 10259 --cert-dir "$R/sched-certs" --leader-elect=false
}

start_kubelet() {
  start kubelet "$BIN/kubelet" --config "$R/kubelet.yaml" --kubeconfig "$R/kubelet.kubeconfig" \
    --root-dir "$R/kubelet" --cert-dir "$R/kubelet/pki" --hostname-override "$NODE_NAME" --node-ip "$NODE_IP"
}

# restart_kubelet stops kubelet (by its PID) and starts it again with the same configuration;
# running pods must survive it. Returns once the node is Ready again.
restart_kubelet() {
  t0=$SECONDS
  stop kubelet
  start_kubelet
  wait_for "kubelet healthy" 60 in_ns curl -sf http://127.0.0.1:10248/healthz
  # Ready is re-evaluated from the kubelet's fresh status; wait for a heartbeat after the restart.
  kctl wait --for=condition=Ready "node/$NODE_NAME" --timeout=120s >/dev/null
  log "node Ready after kubelet restart ($((SECONDS - t0)) s)"
}

start_node() {
  mkdir -p "$R/kubelet" "$R/pod-logs"
  cat >"$R/kubelet.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $PKI/ca.crt}
authorization: {mode: Webhook}
containerRuntimeEndpoint: unix://$CONTAINERD_SOCK
cgroupDriver: cgroupfs   # containerd's runc runs with SystemdCgroup = false
failCgroupV1: false      # these hosts are cgroup v1 (hybrid); kubelet >= 1.35 refuses v1 otherwise
failSwapOn: false
oomScoreAdj: 0           # no CAP_SYS_RESOURCE here: negative scores are refused
podLogsDir: $R/pod-logs
resolvConf: ""           # no upstream DNS for pods: nothing leaves the node
clusterDNS: [$DNS_SVC_IP]
clusterDomain: cluster.local
serializeImagePulls: false
evictionHard: {memory.available: 100Mi, nodefs.available: 2%, imagefs.available: 2%, nodefs.inodesFree: 2%}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
YAML
  start_kubelet
  cat >"$R/kube-proxy.yaml" <<YAML
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: $R/kube-proxy.kubeconfig}
hostnameOverride: $NODE_NAME
bindAddress: $NODE_IP
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
mode: iptables
clusterCIDR: $POD_CIDR
iptables: {localhostNodePorts: false}
oomScoreAdj: 0
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
YAML
  start kube-proxy "$BIN/kube-proxy" --config "$R/kube-proxy.yaml"
  wait_for "node registered" 120 kctl get node "$NODE_NAME"
  kctl wait --for=condition=Ready "node/$NODE_NAME" --timeout=180s >/dev/null
  log "node Ready ($((SECONDS - t0)) s)"
}

# cluster_objects: anonymous OIDC discovery (as AKS publishes its issuer) and CoreDNS.
cluster_objects() {
  kctl get clusterrolebinding e2e:oidc-discovery >/dev/null 2>&1 ||
    kctl create clusterrolebinding e2e:oidc-discovery --clusterrole=system:service-account-issuer-discovery \
      --group=system:unauthenticated >/dev/null
  sed "s#@IMAGE@#$COREDNS_IMAGE#; s#@DNS_IP@#$DNS_SVC_IP#" "$root/hack/cluster/coredns.yaml" | kctl apply -f - >/dev/null
  kctl -n kube-system rollout status deploy/coredns --timeout=120s >/dev/null
  log "CoreDNS ready ($((SECONDS - t0)) s)"
}

import_images() {
  local img
  for img in "$@"; do
    ctr_ -n k8s.io image import "$img" >/dev/null || die "import $img failed"
  done
}

up() {
  t0=$SECONDS
  local m
  m=$(missing)
  [ -z "$m" ] || die "cannot run here: $m"
  mkdir -p "$R/pids" "$R/logs"
  install_packages
  binaries
  images
  record_host
  netns
  pki
  start_containerd
  import_images "$R/build/tools.tar" "$R/build/coredns.tar" "$@"
  start_control_plane
  start_node
  cluster_objects
  echo "$KUBECONFIG"
}

# --- teardown ----------------------------------------------------------------------------------

# stop NAME: SIGTERM, up to 10 s, then SIGKILL; only the PID we recorded.
stop() {
  local f="$R/pids/$1" pid
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  fi
  rm -f "$f"
}

running() { [ -f "$R/pids/$1" ] && kill -0 "$(cat "$R/pids/$1")" 2>/dev/null; }

# remove_containers kills and deletes every container through containerd (the shims exit
# with their tasks) before containerd itself stops.
remove_containers() {
  running containerd || return 0
  local ns t c
  for ns in $(ctr_ ns ls -q 2>/dev/null); do
    for t in $(ctr_ -n "$ns" task ls -q 2>/dev/null); do ctr_ -n "$ns" task kill -s KILL "$t" >/dev/null 2>&1 || true; done
    for t in $(ctr_ -n "$ns" task ls -q 2>/dev/null); do ctr_ -n "$ns" task delete -f "$t" >/dev/null 2>&1 || true; done
    for c in $(ctr_ -n "$ns" c ls -q 2>/dev/null); do ctr_ -n "$ns" c rm "$c" >/dev/null 2>&1 || true; done
  done
}

# remove_cgroups deletes the cgroups kubelet (cgroupfs driver) and containerd made, deepest
# first; a cgroup still holding a process stays (and is reported).
remove_cgroups() {
  local h top
  for h in /sys/fs/cgroup/*/; do
    for top in kubepods k8s.io; do
      [ -d "$h$top" ] && find "$h$top" -depth -type d -exec rmdir {} \; 2>/dev/null
      [ -d "$h$top" ] && log "cgroup $h$top still in use"
    done
  done
  return 0
}

down() {
  # Best effort from here on: every step runs even when one before it failed.
  set +e
  [ -d "$R" ] || { [ -e "/run/netns/$NETNS" ] && ip netns del "$NETNS"; return 0; }
  # Pods first, while kubelet and containerd run, so sandboxes, their veths and volume mounts
  # are torn down the normal way.
  if running kubelet && kctl get --raw /readyz >/dev/null 2>&1; then
    kctl delete pods --all --all-namespaces --grace-period=2 --timeout=60s >/dev/null 2>&1 || true
  fi
  stop kube-proxy
  stop kubelet
  stop kube-scheduler
  stop kube-controller-manager
  stop kube-apiserver
  stop etcd
  remove_containers
  stop containerd
  # Mounts under our tree (deepest first): kubelet's volumes, containerd's rootfs and shm.
  findmnt -rn -o TARGET | grep -E "^$R/" | sort -r | while read -r m; do umount -l "$m" || true; done
  # Pod network namespaces containerd left (not ones that existed before up).
  local n
  for n in $(ls /run/netns 2>/dev/null); do
    [[ $n == cni-* ]] || continue
    grep -qx "$n" "$R/netns.before" 2>/dev/null && continue
    umount "/run/netns/$n" 2>/dev/null; rm -f "/run/netns/$n"
  done
  # The node's namespace: its bridge, veths, iptables rules and routes go with it.
  [ -e "/run/netns/$NETNS" ] && ip netns del "$NETNS"
  remove_cgroups
  if [ -f "$R/host-paths.new" ]; then
    while read -r d; do [ -n "$d" ] && rm -rf "$d"; done <"$R/host-paths.new"
  fi
  # Global kernel settings kubelet changed, back as they were.
  [ -f "$R/sysctl.orig" ] && sysctl -q -p "$R/sysctl.orig" >/dev/null 2>&1
  rm -rf "$R"
  log "down: done"
}

case "${1:-}" in
  up) shift; up "$@" ;;
  down) down ;;
  kubectl) shift; kctl "$@" ;;
  exec) shift; in_ns "$@" ;;
  import) shift; import_images "$@" ;;
  restart-kubelet) restart_kubelet ;;
  check) m=$(missing); [ -z "$m" ] || { echo "$m"; exit 1; } ;;
  *) sed -n '2,/^set -euo/p' "$0" | sed 's/^# \{0,1\}//; $d' >&2; exit 2 ;;
esac
