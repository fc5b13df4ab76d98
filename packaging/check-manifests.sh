#!/usr/bin/env bash
# Checks every deployment manifest in packaging/: syntax with the tools Debian
# ships (python3-yaml, python3 -m json.tool, docker-compose, systemd-analyze,
# kubectl kustomize when present), then the things that matter when deploying:
# probe paths (/healthcheck, /readyz), one port everywhere, non-root, no static
# keys in the ECS task definition, the Kubernetes credentials referenced from a
# Secret, the Dockerfile's build stage = CI's scripts, and its runtime package
# list = the packages owning the libraries the built binary links.
#
#   bash packaging/check-manifests.sh        (ctest runs it as the test "packaging")
#
# Prints one line per check ("ok", "FAIL" with the reason, or "skip" with why)
# and exits non-zero if any check failed. Uses the binary in ${CC_BUILD_DIR:-build}
# (or $CC_CONNECTOR_BIN) for the checks that need it; they are skipped without it.
set -uo pipefail
cd "$(dirname "$0")/.."

PKG=packaging
BIN=${CC_CONNECTOR_BIN:-${CC_BUILD_DIR:-build}/cloud-connector}
# Debian's interpreter: it has python3-yaml (another python3 may come first on PATH).
PY=/usr/bin/python3
[[ -x $PY ]] || PY=$(command -v python3)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

passed=0 failed=0 skipped=0
ok()   { printf 'ok    %s\n' "$1"; passed=$((passed + 1)); }
fail() { printf 'FAIL  %s: %s\n' "$1" "$2"; failed=$((failed + 1)); }
skip() { printf 'skip  %s: %s\n' "$1" "$2"; skipped=$((skipped + 1)); }
# run NAME CMD...: ok if CMD succeeds, else FAIL with the last line CMD printed.
run() {
    local name=$1; shift
    if "$@" >"$TMP/out" 2>&1; then ok "$name"
    else fail "$name" "$(grep -v '^[[:space:]]*$' "$TMP/out" | tail -n 1)"; fi
}

# ---------------------------------------------------------------- syntax
for f in "$PKG"/ecs-task-definition.json "$PKG"/compose/*.json; do
    run "json syntax: $f" "$PY" -m json.tool "$f"
done

if "$PY" -c 'import yaml' 2>/dev/null; then
    for f in "$PKG"/docker-compose.yml "$PKG"/kubernetes/*.yaml; do
        run "yaml syntax: $f" "$PY" -c '
import sys, yaml
try:
    list(yaml.safe_load_all(open(sys.argv[1])))
except yaml.YAMLError as e:
    sys.exit(" ".join(str(e).split()))' "$f"
    done
else
    fail "yaml syntax" "python3-yaml is missing for $PY (bash packaging/install-deps.sh)"
fi

# docker-compose v1 (Debian) validates against the Compose schema offline; v2 if that is what exists.
if command -v docker-compose >/dev/null; then
    run "compose schema: docker-compose config ($PKG/docker-compose.yml)" \
        docker-compose -f "$PKG/docker-compose.yml" config -q
elif docker compose version >/dev/null 2>&1; then
    run "compose schema: docker compose config ($PKG/docker-compose.yml)" \
        docker compose -f "$PKG/docker-compose.yml" config -q
else
    fail "compose schema" "docker-compose is missing (bash packaging/install-deps.sh)"
fi

# kubectl kustomize renders the kustomization offline (no cluster is contacted).
if command -v kubectl >/dev/null; then
    run "kubernetes: kubectl kustomize $PKG/kubernetes" kubectl kustomize "$PKG/kubernetes"
else
    skip "kubernetes: kubectl kustomize" "kubectl not installed (the structural checks below still run)"
fi

# systemd-analyze verify needs ExecStart's binary to exist: verify a copy that runs /bin/true
# with the same arguments. Any diagnostic about the unit (unknown key, bad value) is a failure.
UNIT=$PKG/systemd/cloud-connector.service
if command -v systemd-analyze >/dev/null; then
    mkdir -p "$TMP/unit"
    sed 's#^ExecStart=/usr/local/bin/cloud-connector#ExecStart=/bin/true#' "$UNIT" > "$TMP/unit/cloud-connector.service"
    out=$(systemd-analyze verify "$TMP/unit/cloud-connector.service" 2>&1); rc=$?
    diag=$(grep -F "cloud-connector.service" <<<"$out" | head -n 1)
    if ((rc == 0)) && [[ -z $diag ]]; then ok "systemd: systemd-analyze verify $UNIT"
    else fail "systemd: systemd-analyze verify $UNIT" "${diag:-$(tail -n 1 <<<"$out")}"; fi
else
    skip "systemd: systemd-analyze verify" "systemd-analyze not installed"
fi

# The config the compose example mounts must be accepted by the real binary (state_dir redirected).
if [[ -x $BIN ]]; then
    mkdir -p "$TMP/compose-conf"
    cp "$PKG"/compose/* "$TMP/compose-conf/"
    sed -i "s#^state_dir *=.*#state_dir = $TMP/compose-state#" "$TMP/compose-conf/cloud-connector.conf"
    run "compose: $BIN --check loads $PKG/compose/" "$BIN" --check --config "$TMP/compose-conf/cloud-connector.conf"
else
    skip "compose: cloud-connector --check" "$BIN not built (bash packaging/build.sh)"
fi

# ---------------------------------------------------------------- semantics
"$PY" - "$BIN" <<'PY' > "$TMP/semantic" 2>&1
import json, os, re, shlex, subprocess, sys

BIN = sys.argv[1]
PKG = "packaging"
BINARY = "/usr/local/bin/cloud-connector"
STATE_DIR = "/var/lib/cloud-connector"
DEFAULT_GRACE = 30
CREDENTIAL_VARS = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"}
try:
    import yaml
except ImportError:
    yaml = None

def stop_seconds(argv):
    """Longest SIGTERM-to-exit time for these arguments: --shutdown-delay + --shutdown-grace."""
    def opt(name, default):
        for i, a in enumerate(argv):
            if a == name and i + 1 < len(argv):
                return int(argv[i + 1])
            if a.startswith(name + "="):
                return int(a.split("=", 1)[1])
        return default
    return opt("--shutdown-delay", 0) + opt("--shutdown-grace", DEFAULT_GRACE)

class Skip(Exception):
    pass

def check(name):
    def run(fn):
        try:
            problems = fn() or []
        except Skip as s:
            print(f"skip  {name}: {s}")
            return
        except Exception as e:  # a missing key is a failed check, not a crash
            problems = [f"{type(e).__name__}: {e}"]
        if problems:
            print(f"FAIL  {name}: " + "; ".join(problems))
        else:
            print(f"ok    {name}")
    return run

# ------------------------------------------------ Dockerfile
def dockerfile(path):
    """[(INSTRUCTION, args)] per stage, continuation lines joined, comments dropped."""
    stages, buf = [], ""
    for line in open(path, encoding="utf-8").read().splitlines():
        s = line.strip()
        if s.startswith("#") or (not s and not buf):
            continue
        if s.endswith("\\"):
            buf += s[:-1] + " "
            continue
        buf += s
        word, _, rest = buf.partition(" ")
        buf = ""
        if word.upper() == "FROM":
            stages.append([])
        if not stages:
            raise ValueError(f"{word} before FROM")
        stages[-1].append((word.upper(), rest.strip()))
    return stages

DF = f"{PKG}/Dockerfile"
stages = dockerfile(DF)
build, runtime = stages[0], stages[-1]

def instr(stage, name):
    return [a for i, a in stage if i == name]

def env_of(stage):
    env = {}
    for a in instr(stage, "ENV"):
        if "=" in a.split()[0]:
            for tok in shlex.split(a):
                k, _, v = tok.partition("=")
                env[k] = v
        else:
            k, _, v = a.partition(" ")
            env[k] = v.strip()
    return env

def apt_packages(stage):
    pkgs = []
    for a in instr(stage, "RUN"):
        for part in a.split("&&"):
            words = part.split()
            if "apt-get" in words and "install" in words:
                pkgs += [w for w in words[words.index("install") + 1:] if not w.startswith("-")]
    return pkgs

def port_of(url):
    m = re.match(r"https?://[^/:]+:(\d+)/", url)
    return int(m.group(1)) if m else 80

expose = [int(p.split("/")[0]) for a in instr(runtime, "EXPOSE") for p in a.split()]
PORT = expose[0] if expose else 8081

@check("dockerfile: multi-stage, the build stage runs install-deps.sh --build and build.sh (as CI)")
def _():
    p = []
    if len(stages) < 2:
        p.append(f"{len(stages)} stage(s), want a build stage and a runtime stage")
    runs = " && ".join(instr(build, "RUN"))
    if "packaging/install-deps.sh --build" not in runs:
        p.append("build stage does not run packaging/install-deps.sh --build")
    if "packaging/build.sh" not in runs:
        p.append("build stage does not run packaging/build.sh")
    ignore = f"{DF}.dockerignore"
    if not os.path.isfile(ignore) or "build" not in open(ignore).read().split():
        p.append(f"{ignore} does not keep the host's build/ out of the context")
    if not any("--from=" in a for a in instr(runtime, "COPY")):
        p.append("runtime stage copies nothing from the build stage")
    if not re.match(r"debian:12(-slim)?\b", instr(runtime, "FROM")[0]):
        p.append(f"runtime base {instr(runtime, 'FROM')[0]!r} is not debian:12-slim")
    return p

@check("dockerfile: runtime stage runs as a non-root user (numeric, so runAsNonRoot can verify it)")
def _():
    users = instr(runtime, "USER")
    if not users:
        return ["no USER in the runtime stage"]
    user = users[-1].split(":")[0]
    if user in ("root", "0"):
        return [f"USER {users[-1]} is root"]
    if not user.isdigit():
        return [f"USER {users[-1]} is not numeric"]

@check("dockerfile: HEALTHCHECK probes /healthcheck on the exposed port with a tool the image installs")
def _():
    hc = instr(runtime, "HEALTHCHECK")
    if not hc:
        return ["no HEALTHCHECK"]
    cmd = hc[-1].split("CMD", 1)[1].strip() if "CMD" in hc[-1] else ""
    if not cmd:
        return ["HEALTHCHECK has no CMD"]
    env = env_of(runtime)
    expanded = re.sub(r"\$\{?(\w+)\}?", lambda m: env.get(m.group(1), m.group(0)), cmd)
    urls = re.findall(r"https?://[^\s\"']+", expanded)
    p = []
    if not any(u.split("?")[0].endswith("/healthcheck") for u in urls):
        p.append(f"probe URL {urls or cmd!r} is not /healthcheck")
    elif port_of(urls[0]) != PORT:
        p.append(f"probe port {port_of(urls[0])} != EXPOSE {PORT}")
    tool = json.loads(cmd)[0] if cmd.startswith("[") else cmd.split()[0]
    if tool in ("curl", "wget") and tool not in apt_packages(runtime):
        p.append(f"{tool} is not installed in the runtime stage")
    return p

@check(f"dockerfile: ENTRYPOINT is {BINARY}, VOLUME {STATE_DIR}, EXPOSE set")
def _():
    p = []
    ep = instr(runtime, "ENTRYPOINT")
    if not ep or json.loads(ep[-1])[0] != BINARY:
        p.append(f"ENTRYPOINT {ep[-1] if ep else None} is not [\"{BINARY}\"]")
    vols = " ".join(instr(runtime, "VOLUME"))
    if STATE_DIR not in vols:
        p.append(f"no VOLUME {STATE_DIR}")
    if not expose:
        p.append("no EXPOSE")
    return p

def resolve_lib(path):
    """dpkg -S on a library path, trying the merged-/usr spellings."""
    cands = [os.path.realpath(path), path]
    for c in list(cands):
        if c.startswith("/usr/lib/"):
            cands.append(c[4:])
        elif c.startswith("/lib/"):
            cands.append("/usr" + c)
    for c in cands:
        r = subprocess.run(["dpkg", "-S", c], capture_output=True, text=True)
        if r.returncode == 0:
            owners = r.stdout.splitlines()[0].rsplit(": ", 1)[0]
            return {o.strip().split(":")[0] for o in owners.split(",")}
    return None

@check("dockerfile: runtime packages = the packages owning the libraries the built binary links")
def _():
    if not os.access(BIN, os.X_OK):
        raise Skip(f"{BIN} not built (bash packaging/build.sh)")
    for tool in ("readelf", "ldd", "dpkg"):
        if subprocess.run(["sh", "-c", f"command -v {tool}"], capture_output=True).returncode:
            raise Skip(f"{tool} not available")
    dyn = subprocess.run(["readelf", "-d", BIN], capture_output=True, text=True, check=True).stdout
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]", dyn)
    ldd = subprocess.run(["ldd", BIN], capture_output=True, text=True).stdout
    where = dict(re.findall(r"^\s*(\S+) => (\S+)", ldd, re.M))
    p, want = [], set()
    for lib in needed:
        owners = resolve_lib(where[lib]) if lib in where and where[lib] != "not" else None
        if not owners:
            p.append(f"cannot map {lib} to a Debian package")
            continue
        want |= owners
    have = set(apt_packages(runtime)) - {"ca-certificates", "curl"}
    if want - have:
        p.append("missing from the runtime stage: " + " ".join(sorted(want - have)))
    if have - want:
        p.append("installed but not linked by the binary: " + " ".join(sorted(have - want)))
    return p

# ------------------------------------------------ docker-compose example
def ini(path):
    out, section = {}, None
    for line in open(path, encoding="utf-8"):
        s = line.strip()
        if not s or s[0] in "#;":
            continue
        if s.startswith("["):
            section = s.strip("[]")
            continue
        k, _, v = s.partition("=")
        out[(section, k.strip())] = v.strip()
    return out

def host_of(url):
    return re.match(r"https?://([^/:]+)", url).group(1)

@check(f"compose: connector = packaging/Dockerfile image, --config from the mounted config dir, {STATE_DIR} volume, port {PORT}, stop grace")
def _():
    if yaml is None:
        raise Skip("python3-yaml missing")
    doc = yaml.safe_load(open(f"{PKG}/docker-compose.yml"))
    services = doc["services"]
    conn = [s for s in services.values()
            if isinstance(s.get("build"), dict) and s["build"].get("dockerfile") == "packaging/Dockerfile"]
    if len(conn) != 1:
        return ["no single service builds packaging/Dockerfile"]
    c, p = conn[0], []
    if os.path.realpath(os.path.join(PKG, c["build"].get("context", "."))) != os.path.realpath("."):
        p.append("build context is not the repository root")
    if c.get("entrypoint"):
        p.append("entrypoint overridden: the image's binary must be the entry point")
    cmd = c.get("command") or []
    cmd = shlex.split(cmd) if isinstance(cmd, str) else cmd
    if "--config" not in cmd:
        return p + ["command has no --config"]
    conf = cmd[cmd.index("--config") + 1]
    mounts = [v.split(":") for v in c.get("volumes", []) if isinstance(v, str)]
    src = [m[0] for m in mounts if len(m) > 1 and m[1] == os.path.dirname(conf)]
    if not src:
        p.append(f"nothing is mounted at {os.path.dirname(conf)}")
        return p
    host_conf = os.path.normpath(os.path.join(PKG, src[0], os.path.basename(conf)))
    if not os.path.isfile(host_conf):
        return p + [f"{host_conf} does not exist"]
    if not any(m[1] == STATE_DIR for m in mounts if len(m) > 1):
        p.append(f"no volume at {STATE_DIR}")
    cfg = ini(host_conf)
    bind_port = int(cfg.get(("DEFAULT", "bind_port"), "8081"))
    if bind_port != PORT:
        p.append(f"{host_conf} bind_port {bind_port} != EXPOSE {PORT}")
    if cfg.get(("cloud-connector", "state_dir"), STATE_DIR) != STATE_DIR:
        p.append(f"{host_conf} state_dir is not {STATE_DIR}")
    m = re.fullmatch(r"(\d+)s", str(c.get("stop_grace_period", "10s")))
    if not m or int(m.group(1)) <= stop_seconds(cmd):
        p.append(f"stop_grace_period {c.get('stop_grace_period', '10s (default)')} is not longer than"
                 f" the {stop_seconds(cmd)} s shutdown delay and grace")
    targets = [int(str(x).rsplit(":", 1)[-1].split("/")[0]) for x in c.get("ports", [])]
    if PORT not in targets:
        p.append(f"container port {PORT} not published ({targets})")
    swift = [n for n, s in services.items() if "swift" in str(s.get("image", "")).lower()]
    if not swift:
        p.append("no Swift service")
    baseurl = cfg.get(("DEFAULT", "swift_baseurl"), "")
    if not baseurl or host_of(baseurl) not in swift:
        p.append(f"swift_baseurl {baseurl!r} does not name a Swift service of the compose file")
    mapping = json.load(open(os.path.join(os.path.dirname(host_conf),
                                          cfg.get(("app:proxy-server", "conf_file"), "sync-config.json"))))
    for e in mapping["containers"]:
        if e.get("aws_endpoint") and host_of(e["aws_endpoint"]) not in services:
            p.append(f"aws_endpoint {e['aws_endpoint']} is not a compose service")
    return p

# ------------------------------------------------ Kubernetes
K8S = f"{PKG}/kubernetes"
CONTAINER_KEYS = {"name", "image", "command", "args", "workingDir", "ports", "envFrom", "env", "resources",
                  "resizePolicy", "restartPolicy", "volumeMounts", "volumeDevices", "livenessProbe",
                  "readinessProbe", "startupProbe", "lifecycle", "terminationMessagePath",
                  "terminationMessagePolicy", "imagePullPolicy", "securityContext", "stdin", "stdinOnce", "tty"}
POD_KEYS = {"volumes", "initContainers", "containers", "ephemeralContainers", "restartPolicy",
            "terminationGracePeriodSeconds", "activeDeadlineSeconds", "dnsPolicy", "nodeSelector",
            "serviceAccountName", "serviceAccount", "automountServiceAccountToken", "nodeName", "hostNetwork",
            "hostPID", "hostIPC", "shareProcessNamespace", "securityContext", "imagePullSecrets", "hostname",
            "subdomain", "affinity", "schedulerName", "tolerations", "hostAliases", "priorityClassName",
            "priority", "dnsConfig", "readinessGates", "runtimeClassName", "enableServiceLinks",
            "preemptionPolicy", "overhead", "topologySpreadConstraints", "setHostnameAsFQDN", "os",
            "hostUsers", "schedulingGates", "resourceClaims"}
PROBE_KEYS = {"exec", "httpGet", "tcpSocket", "grpc", "initialDelaySeconds", "timeoutSeconds", "periodSeconds",
              "successThreshold", "failureThreshold", "terminationGracePeriodSeconds"}
HTTPGET_KEYS = {"path", "port", "host", "scheme", "httpHeaders"}
STS_KEYS = {"replicas", "selector", "template", "volumeClaimTemplates", "serviceName", "podManagementPolicy",
            "updateStrategy", "revisionHistoryLimit", "minReadySeconds", "persistentVolumeClaimRetentionPolicy",
            "ordinals"}
DEPLOY_KEYS = {"replicas", "selector", "template", "strategy", "minReadySeconds", "revisionHistoryLimit",
               "paused", "progressDeadlineSeconds"}
SERVICE_KEYS = {"ports", "selector", "clusterIP", "clusterIPs", "type", "externalIPs", "sessionAffinity",
                "loadBalancerIP", "loadBalancerSourceRanges", "externalName", "externalTrafficPolicy",
                "healthCheckNodePort", "publishNotReadyAddresses", "sessionAffinityConfig", "ipFamilies",
                "ipFamilyPolicy", "allocateLoadBalancerNodePorts", "loadBalancerClass", "internalTrafficPolicy",
                "trafficDistribution"}
SERVICE_PORT_KEYS = {"name", "protocol", "appProtocol", "port", "targetPort", "nodePort"}
META_KEYS = {"name", "namespace", "labels", "annotations", "generateName", "finalizers", "ownerReferences"}
OBJECT_KEYS = {"apiVersion", "kind", "metadata", "spec", "data", "stringData", "type", "immutable"}

def k8s_docs():
    if yaml is None:
        raise Skip("python3-yaml missing")
    docs = []
    for f in sorted(os.listdir(K8S)):
        if f.endswith((".yaml", ".yml")) and f != "kustomization.yaml":
            docs += [(f, d) for d in yaml.safe_load_all(open(os.path.join(K8S, f))) if d]
    return docs

def workload():
    w = [(f, d) for f, d in k8s_docs() if d.get("kind") in ("StatefulSet", "Deployment")]
    if len(w) != 1:
        raise ValueError(f"want one StatefulSet or Deployment, found {len(w)}")
    f, d = w[0]
    pod = d["spec"]["template"]["spec"]
    c = pod["containers"][0]
    return f, d, pod, c

def container_port(c, port):
    if isinstance(port, int):
        return port
    named = {p.get("name"): p["containerPort"] for p in c.get("ports", [])}
    return named.get(port)

def unknown(keys, allowed, where):
    return [f"unknown field {where}.{k}" for k in keys if k not in allowed]

@check("kubernetes: every object has apiVersion, kind, metadata.name and only known fields")
def _():
    p = []
    for f, d in k8s_docs():
        where = f"{f}:{d.get('kind')}"
        for k in ("apiVersion", "kind"):
            if not d.get(k):
                p.append(f"{where}: no {k}")
        if not (d.get("metadata") or {}).get("name"):
            p.append(f"{where}: no metadata.name")
        p += unknown(d, OBJECT_KEYS, where)
        p += unknown(d.get("metadata") or {}, META_KEYS, where + ".metadata")
        spec = d.get("spec") or {}
        if d["kind"] in ("StatefulSet", "Deployment"):
            p += unknown(spec, STS_KEYS if d["kind"] == "StatefulSet" else DEPLOY_KEYS, where + ".spec")
            pod = spec["template"]["spec"]
            p += unknown(pod, POD_KEYS, where + ".pod")
            for c in pod.get("containers", []) + pod.get("initContainers", []):
                p += unknown(c, CONTAINER_KEYS, f"{where}.{c.get('name')}")
                for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
                    if probe in c:
                        p += unknown(c[probe], PROBE_KEYS, f"{where}.{probe}")
                        p += unknown(c[probe].get("httpGet") or {}, HTTPGET_KEYS, f"{where}.{probe}.httpGet")
        if d["kind"] == "Service":
            p += unknown(spec, SERVICE_KEYS, where + ".spec")
            for sp in spec.get("ports", []):
                p += unknown(sp, SERVICE_PORT_KEYS, where + ".spec.ports[]")
    return p

@check(f"kubernetes: {STATE_DIR} is a per-replica volume (volumeClaimTemplates), container port {PORT}")
def _():
    f, d, pod, c = workload()
    p = []
    if d["kind"] != "StatefulSet":
        p.append("a Deployment shares one claim between replicas: use a StatefulSet with volumeClaimTemplates")
    claims = {t["metadata"]["name"] for t in d["spec"].get("volumeClaimTemplates", [])}
    mounts = {m["mountPath"]: m["name"] for m in c.get("volumeMounts", [])}
    if mounts.get(STATE_DIR) not in claims:
        p.append(f"{STATE_DIR} is not mounted from a volumeClaimTemplate")
    if PORT not in [x["containerPort"] for x in c.get("ports", [])]:
        p.append(f"containerPort {PORT} not declared")
    if c.get("command") not in (None, [BINARY]):
        p.append(f"command {c['command']} overrides the image's entry point")
    return p

@check("kubernetes: liveness/startup probe GET /healthcheck, readiness probe GET /readyz, on the container port")
def _():
    f, d, pod, c = workload()
    p = []
    for probe, path, required in (("livenessProbe", "/healthcheck", True), ("readinessProbe", "/readyz", True),
                                  ("startupProbe", "/healthcheck", False)):
        pr = c.get(probe)
        if not pr:
            if required:
                p.append(f"no {probe}")
            continue
        get = pr.get("httpGet") or {}
        if get.get("path") != path:
            p.append(f"{probe} path {get.get('path')!r} != {path}")
        if container_port(c, get.get("port")) != PORT:
            p.append(f"{probe} port {get.get('port')!r} is not {PORT}")
    return p

@check("kubernetes: resource requests, non-root, graceful stop longer than --shutdown-grace")
def _():
    f, d, pod, c = workload()
    p = []
    req = (c.get("resources") or {}).get("requests") or {}
    for r in ("cpu", "memory"):
        if r not in req:
            p.append(f"no resources.requests.{r}")
    psc, csc = pod.get("securityContext") or {}, c.get("securityContext") or {}
    if not (csc.get("runAsNonRoot", psc.get("runAsNonRoot"))):
        p.append("runAsNonRoot is not true")
    if csc.get("runAsUser", psc.get("runAsUser")) == 0:
        p.append("runAsUser is 0")
    if csc.get("allowPrivilegeEscalation") is not False:
        p.append("allowPrivilegeEscalation is not false")
    pre = (((c.get("lifecycle") or {}).get("preStop") or {}).get("exec") or {}).get("command") or []
    pre_sleep = int(pre[1]) if len(pre) == 2 and pre[0] == "sleep" else 0
    stop = stop_seconds((c.get("command") or []) + (c.get("args") or []))
    grace = pod.get("terminationGracePeriodSeconds", 30)
    if grace <= stop + pre_sleep:
        p.append(f"terminationGracePeriodSeconds {grace} <= preStop {pre_sleep} + shutdown delay and grace {stop}")
    return p

@check(f"kubernetes: prometheus.io scrape annotations on the pods (path /metrics, port {PORT})")
def _():
    f, d, pod, c = workload()
    a = d["spec"]["template"]["metadata"].get("annotations") or {}
    want = {"prometheus.io/scrape": "true", "prometheus.io/path": "/metrics", "prometheus.io/port": str(PORT)}
    return [f"{k}={a.get(k)!r}, want {v!r}" for k, v in want.items() if a.get(k) != v]

@check("kubernetes: config from the config bucket (CONF_* env, no ConfigMap), credentials referenced from a Secret, not inlined")
def _():
    docs = k8s_docs()
    f, d, pod, c = workload()
    p = []
    env = {e["name"]: e for e in c.get("env", [])}
    if not (env.get("CONF_BUCKET") or {}).get("value"):
        p.append("CONF_BUCKET is not set")
    if any(x.get("kind") == "ConfigMap" for _, x in docs) or "configMapRef" in json.dumps(c.get("envFrom", [])):
        p.append("a ConfigMap is used: the config comes from the config bucket")
    secrets = {x["metadata"]["name"]: x for _, x in docs if x.get("kind") == "Secret"}
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        e = env.get(var)
        if e is None:
            p.append(f"{var} not in env")
            continue
        if "value" in e:
            p.append(f"{var} is inlined as a value")
            continue
        ref = (e.get("valueFrom") or {}).get("secretKeyRef") or {}
        if not ref:
            p.append(f"{var} is not from a secretKeyRef")
        elif ref.get("name") not in secrets:
            p.append(f"{var}: Secret {ref.get('name')!r} has no example manifest")
        else:
            s = secrets[ref["name"]]
            if ref.get("key") not in {**(s.get("data") or {}), **(s.get("stringData") or {})}:
                p.append(f"{var}: key {ref.get('key')!r} not in Secret {ref['name']}")
    if "AWS_SESSION_TOKEN" in env and "value" in env["AWS_SESSION_TOKEN"]:
        p.append("AWS_SESSION_TOKEN is inlined as a value")
    kz = yaml.safe_load(open(os.path.join(K8S, "kustomization.yaml")))
    for r in kz.get("resources", []):
        if any(x.get("kind") == "Secret" for x in yaml.safe_load_all(open(os.path.join(K8S, r))) if x):
            p.append(f"kustomization applies {r}, a Secret with placeholder keys")
    for f2, x in docs:
        if x.get("kind") == "Secret":
            values = list((x.get("stringData") or {}).values()) + list((x.get("data") or {}).values())
            if "example" not in f2 or any(re.match(r"^(AKIA|ASIA)[A-Z0-9]{16}$", str(v)) for v in values):
                p.append(f"{f2}: a Secret with values must be an example (secret.example.yaml) with placeholders")
    return p

@check("kubernetes: Services select the pods and target the container port; serviceName is a headless Service")
def _():
    docs = k8s_docs()
    f, d, pod, c = workload()
    labels = d["spec"]["template"]["metadata"].get("labels") or {}
    services = [x for _, x in docs if x.get("kind") == "Service"]
    p = []
    if not services:
        return ["no Service"]
    for s in services:
        name = s["metadata"]["name"]
        sel = s["spec"].get("selector") or {}
        if not sel or any(labels.get(k) != v for k, v in sel.items()):
            p.append(f"Service {name} selector {sel} does not match the pod labels")
        for sp in s["spec"].get("ports", []):
            if container_port(c, sp.get("targetPort", sp.get("port"))) != PORT:
                p.append(f"Service {name} targetPort {sp.get('targetPort')!r} is not {PORT}")
    if d["kind"] == "StatefulSet":
        headless = [s for s in services if s["metadata"]["name"] == d["spec"].get("serviceName")]
        if not headless or headless[0]["spec"].get("clusterIP") != "None":
            p.append(f"serviceName {d['spec'].get('serviceName')!r} is not a headless Service")
    return p

# ------------------------------------------------ ECS
ECS = f"{PKG}/ecs-task-definition.json"
TASK_KEYS = {"family", "taskRoleArn", "executionRoleArn", "networkMode", "containerDefinitions", "volumes",
             "placementConstraints", "requiresCompatibilities", "cpu", "memory", "tags", "pidMode", "ipcMode",
             "proxyConfiguration", "inferenceAccelerators", "ephemeralStorage", "runtimePlatform",
             "enableFaultInjection"}
CDEF_KEYS = {"name", "image", "repositoryCredentials", "cpu", "memory", "memoryReservation", "links",
             "portMappings", "essential", "restartPolicy", "entryPoint", "command", "environment",
             "environmentFiles", "mountPoints", "volumesFrom", "linuxParameters", "secrets", "dependsOn",
             "startTimeout", "stopTimeout", "versionConsistency", "hostname", "user", "workingDirectory",
             "disableNetworking", "privileged", "readonlyRootFilesystem", "dnsServers", "dnsSearchDomains",
             "extraHosts", "dockerSecurityOptions", "interactive", "pseudoTerminal", "dockerLabels", "ulimits",
             "logConfiguration", "healthCheck", "systemControls", "resourceRequirements",
             "firelensConfiguration", "credentialSpecs"}

def ecs():
    t = json.load(open(ECS))
    return t, t["containerDefinitions"][0]

@check("ecs: only fields RegisterTaskDefinition accepts; family and image set")
def _():
    t, c = ecs()
    p = unknown(t, TASK_KEYS, "task") + unknown(c, CDEF_KEYS, "container")
    for k in ("family",):
        if not t.get(k):
            p.append(f"no {k}")
    if not c.get("image") or not c.get("name"):
        p.append("container has no name or image")
    return p

@check("ecs: credentials from the task role (taskRoleArn), no static AWS keys anywhere in the container")
def _():
    t, c = ecs()
    p = []
    if not re.match(r"^arn:aws[\w-]*:iam::\d{12}:role/.+", t.get("taskRoleArn", "")):
        p.append(f"taskRoleArn {t.get('taskRoleArn')!r} is not an IAM role ARN")
    for field in ("environment", "secrets"):
        for e in c.get(field, []):
            if e.get("name") in CREDENTIAL_VARS | {"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"}:
                p.append(f"{e['name']} set in {field} (ECS provides the task role's credentials)")
    if c.get("environmentFiles"):
        p.append("environmentFiles may carry keys: use the task role")
    if re.search(r"(AKIA|ASIA)[A-Z0-9]{16}", json.dumps(t)):
        p.append("an access key id appears in the task definition")
    env = {e["name"]: e.get("value") for e in c.get("environment", [])}
    if not env.get("CONF_BUCKET"):
        p.append("CONF_BUCKET is not set")
    return p

@check(f"ecs: healthCheck GET /healthcheck on containerPort {PORT}, entry point not overridden")
def _():
    t, c = ecs()
    p = []
    ports = [m.get("containerPort") for m in c.get("portMappings", [])]
    if PORT not in ports:
        p.append(f"portMappings {ports} lack {PORT}")
    hc = c.get("healthCheck") or {}
    cmd = hc.get("command") or []
    if not cmd or cmd[0] not in ("CMD", "CMD-SHELL"):
        p.append("healthCheck.command must start with CMD or CMD-SHELL")
    urls = re.findall(r"https?://[^\s\"']+", " ".join(cmd))
    if not urls or not urls[0].endswith("/healthcheck"):
        p.append(f"healthCheck probes {urls}, not /healthcheck")
    elif port_of(urls[0]) != PORT:
        p.append(f"healthCheck port {port_of(urls[0])} != {PORT}")
    for k, lo, hi in (("interval", 5, 300), ("timeout", 2, 60), ("retries", 1, 10), ("startPeriod", 0, 300)):
        if k in hc and not lo <= hc[k] <= hi:
            p.append(f"healthCheck.{k} {hc[k]} outside {lo}..{hi}")
    if c.get("entryPoint") not in (None, [BINARY]):
        p.append(f"entryPoint {c['entryPoint']} overrides the image's")
    return p

@check(f"ecs: awslogs logging, {STATE_DIR} mounted from a task volume, stopTimeout longer than --shutdown-grace")
def _():
    t, c = ecs()
    p = []
    lc = c.get("logConfiguration") or {}
    if lc.get("logDriver") != "awslogs":
        p.append(f"logDriver {lc.get('logDriver')!r} is not awslogs")
    for o in ("awslogs-group", "awslogs-region", "awslogs-stream-prefix"):
        if not (lc.get("options") or {}).get(o):
            p.append(f"no {o}")
    vols = {v["name"] for v in t.get("volumes", [])}
    mp = [m for m in c.get("mountPoints", []) if m.get("containerPath") == STATE_DIR]
    if not mp or mp[0].get("sourceVolume") not in vols or mp[0].get("readOnly"):
        p.append(f"{STATE_DIR} is not a writable mountPoint of a declared volume")
    st, stop = c.get("stopTimeout", 30), stop_seconds(c.get("command") or [])
    if not stop < st <= 120:
        p.append(f"stopTimeout {st} not in ({stop}, 120] (shutdown delay and grace {stop} s)")
    return p

# ------------------------------------------------ systemd
UNIT = f"{PKG}/systemd/cloud-connector.service"

def unit():
    out, section = {}, None
    for line in open(UNIT, encoding="utf-8"):
        s = line.strip()
        if not s or s[0] in "#;":
            continue
        if s.startswith("["):
            section = s.strip("[]")
            continue
        k, _, v = s.partition("=")
        out.setdefault((section, k), []).append(v)
    return out

@check(f"systemd: file mode ({BINARY} --config /etc/cloud-connector/cloud-connector.conf) as User=cloud-connector, StateDirectory=cloud-connector")
def _():
    u = unit()
    p = []
    start = shlex.split(u.get(("Service", "ExecStart"), [""])[-1])
    if start[:3] != [BINARY, "--config", "/etc/cloud-connector/cloud-connector.conf"]:
        p.append(f"ExecStart {' '.join(start)!r}")
    for k, v in (("User", "cloud-connector"), ("StateDirectory", "cloud-connector")):
        if u.get(("Service", k), [None])[-1] != v:
            p.append(f"{k} is not {v}")
    if ("Install", "WantedBy") not in u:
        p.append("no [Install] WantedBy")
    return p

@check("systemd: ExecReload sends SIGHUP, TimeoutStopSec longer than --shutdown-grace, hardening on")
def _():
    u = unit()
    p = []
    reload_ = u.get(("Service", "ExecReload"), [""])[-1]
    if not re.search(r"kill\s+-(HUP|SIGHUP|s HUP)\s+\$MAINPID", reload_):
        p.append(f"ExecReload {reload_!r} does not send SIGHUP to $MAINPID")
    start = shlex.split(u.get(("Service", "ExecStart"), [""])[-1])
    grace = stop_seconds(start)
    m = re.fullmatch(r"(\d+)s?", u.get(("Service", "TimeoutStopSec"), ["90"])[-1])
    if not m or int(m.group(1)) <= grace:
        p.append(f"TimeoutStopSec={u.get(('Service', 'TimeoutStopSec'), ['(default)'])[-1]} is not longer than"
                 f" the {grace} s shutdown delay and grace")
    for k, v in (("NoNewPrivileges", "yes"), ("ProtectSystem", "strict"), ("PrivateTmp", "yes"),
                 ("ProtectHome", "yes")):
        if u.get(("Service", k), [None])[-1] != v:
            p.append(f"{k} is not {v}")
    return p
PY
rc=$?
cat "$TMP/semantic"
passed=$((passed + $(grep -c '^ok ' "$TMP/semantic")))
failed=$((failed + $(grep -c '^FAIL ' "$TMP/semantic")))
skipped=$((skipped + $(grep -c '^skip ' "$TMP/semantic")))
if ((rc != 0)); then fail "semantic checks" "the checker itself exited $rc"; fi

total=$((passed + failed + skipped))
if ((failed > 0)); then
    echo "check-manifests: $failed of $total checks FAILED ($skipped skipped)"
    exit 1
fi
echo "check-manifests: all $passed checks ok ($skipped skipped)"
