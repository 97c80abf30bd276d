#!/usr/bin/env python3
"""Offline validation of the deploy kit (deploy/, Dockerfile). Run through tests/deploy/run.sh.

Every file under deploy/ is either run by a real tool (haproxy, keepalived, promtool,
kubernetes-validate, the pharos binary) or parsed and cross-checked against the others, so that the
kit stays consistent: the compose file mounts the same haproxy.cfg the HA test runs, the probes
are /livez and /readyz everywhere, every Secret and ConfigMap key a pod uses exists, and so on.

Prints one line per check ("ok   name" or "FAIL name: why") and ends with
"deploy checks: N passed, M failed"; exits 1 if any check failed.
"""

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml

RESULTS = []


class CheckFailed(Exception):
    pass


def check(name):
    """Decorator: run the function as one named check; an exception is its failure."""

    def wrap(fn):
        def run(*args, **kwargs):
            try:
                detail = fn(*args, **kwargs)
            except CheckFailed as e:
                RESULTS.append(False)
                print(f"FAIL {name}: {e}", flush=True)
                return
            except Exception as e:  # a crash in a check is its failure, not the run's
                RESULTS.append(False)
                print(f"FAIL {name}: {type(e).__name__}: {e}", flush=True)
                return
            RESULTS.append(True)
            print(f"ok   {name}" + (f" ({detail})" if detail else ""), flush=True)

        return run

    return wrap


def expect(cond, message):
    if not cond:
        raise CheckFailed(message)


def run(cmd, **kwargs):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, **kwargs)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load_yaml_docs(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


# --- Kubernetes -----------------------------------------------------------------------------------


def k8s_resources(root):
    out = {}
    for path in sorted((root / "deploy/kubernetes").glob("*.yaml")):
        for doc in load_yaml_docs(path):
            out[(doc["kind"], doc["metadata"]["name"])] = doc
    return out


@check("kubernetes: kubernetes-validate --strict (default version and 1.30)")
def k8s_validate(root, tool):
    files = sorted(str(p) for p in (root / "deploy/kubernetes").glob("*.yaml"))
    expect(files, "no manifests in deploy/kubernetes")
    versions = []
    # 1.30: the oldest Kubernetes with the preStop `sleep` action the Deployment uses.
    for extra in ([], ["-k", "1.30.0"]):
        r = run([tool, "--strict", *extra, *files])
        out = r.stdout + r.stderr
        expect(r.returncode == 0, f"exit {r.returncode}: {out.strip()[-2000:]}")
        expect("passed" in out, f"no resource reported as passed: {out.strip()}")
        versions += sorted(set(re.findall(r"against version (\S+)", out)))
    return f"{len(files)} files, versions {', '.join(versions)}"


@check("kubernetes: the Deployment (3 replicas, probes, preStop, grace period, spread, non-root)")
def k8s_deployment(root):
    res = k8s_resources(root)
    dep = res.get(("Deployment", "pharos"))
    expect(dep, "no Deployment named pharos")
    spec = dep["spec"]
    expect(spec.get("replicas") == 3, f"replicas is {spec.get('replicas')}, not 3")
    pod = spec["template"]["spec"]
    (c,) = [c for c in pod["containers"] if c["name"] == "pharos"]
    expect(c["readinessProbe"]["httpGet"]["path"] == "/readyz", "readiness is not on /readyz")
    expect(c["livenessProbe"]["httpGet"]["path"] == "/livez", "liveness is not on /livez")
    pre = c["lifecycle"]["preStop"]
    if "sleep" in pre:
        pre_stop = int(pre["sleep"]["seconds"])
    else:
        cmd = pre["exec"]["command"]
        expect(cmd[0] == "sleep", f"preStop is neither a sleep action nor `sleep N`: {cmd}")
        pre_stop = int(cmd[1])
    expect(pre_stop >= 2, f"preStop sleeps {pre_stop}s: too short for endpoints to update")
    toml = tomllib_loads(res[("ConfigMap", "pharos-config")]["data"]["pharos.toml"])
    drain = seconds(toml.get("server", {}).get("drain_period", "5s"))
    shutdown = seconds(toml.get("server", {}).get("shutdown_timeout", "30s"))
    grace = pod["terminationGracePeriodSeconds"]
    # + 2 s: releasing leases and leaving the member list is bounded to 2 s at shutdown.
    needed = pre_stop + drain + shutdown + 2
    expect(grace > needed, f"terminationGracePeriodSeconds {grace} <= preStop {pre_stop} + drain "
           f"{drain} + shutdown {shutdown} + 2")
    keys = {t["topologyKey"] for t in pod.get("topologySpreadConstraints", [])}
    expect("kubernetes.io/hostname" in keys, "no topology spread across nodes")
    psc = pod.get("securityContext", {})
    expect(psc.get("runAsNonRoot") is True, "pod securityContext lacks runAsNonRoot: true")
    expect(int(psc.get("runAsUser", 0)) != 0, "runAsUser is root")
    csc = c.get("securityContext", {})
    expect(csc.get("allowPrivilegeEscalation") is False, "allowPrivilegeEscalation is not false")
    expect("ALL" in csc.get("capabilities", {}).get("drop", []), "capabilities not dropped")
    expect(c.get("resources", {}).get("requests"), "no resource requests (the HPA needs them)")
    env = {e["name"]: e for e in c.get("env", [])}
    for name in ("PHAROS_DATABASE_URL", "PHAROS_SECURITY_SECRET_KEY"):
        expect(name in env and "secretKeyRef" in env[name].get("valueFrom", {}),
               f"{name} does not come from a Secret")
    return f"grace {grace}s > preStop {pre_stop}s + drain {drain}s + shutdown {shutdown}s + 2s"


@check("kubernetes: every Secret/ConfigMap key and selector the manifests use exists")
def k8s_references(root):
    res = k8s_resources(root)
    dep = res[("Deployment", "pharos")]
    pod = dep["spec"]["template"]
    labels = pod["metadata"]["labels"]
    expect(dep["spec"]["selector"]["matchLabels"].items() <= labels.items(),
           "the Deployment's selector does not match its pods")
    n = 0
    for c in pod["spec"]["containers"]:
        for e in c.get("env", []):
            ref = e.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                sec = res.get(("Secret", ref["name"]))
                expect(sec, f"env {e['name']}: no Secret {ref['name']}")
                data = {**sec.get("stringData", {}), **sec.get("data", {})}
                expect(ref["key"] in data, f"env {e['name']}: Secret {ref['name']} has no key {ref['key']}")
                n += 1
        mounts = {m["name"] for m in c.get("volumeMounts", [])}
        vols = {v["name"]: v for v in pod["spec"]["volumes"]}
        expect(mounts <= vols.keys(), f"mounts without a volume: {mounts - vols.keys()}")
        for m in c.get("volumeMounts", []):
            v = vols[m["name"]]
            if "configMap" in v:
                cm = res.get(("ConfigMap", v["configMap"]["name"]))
                if cm is None and v["configMap"].get("optional"):
                    continue  # made by the operator (pharos-dashboards, from deploy/dashboards/)
                expect(cm, f"volume {m['name']}: no ConfigMap {v['configMap']['name']}")
                for item in v["configMap"].get("items", []):
                    expect(item["key"] in cm["data"], f"ConfigMap {v['configMap']['name']} has no key {item['key']}")
                    n += 1
                if "subPath" in m:
                    expect(m["subPath"] in cm["data"], f"ConfigMap has no key {m['subPath']}")
                    n += 1
    # Every dashboard provider reads a directory the container mounts.
    mount_paths = {m["mountPath"] for c in pod["spec"]["containers"] for m in c.get("volumeMounts", [])}
    for text in res[("ConfigMap", "pharos-provisioning")]["data"].values():
        for p in yaml.safe_load(text).get("providers", []):
            expect(p["options"]["path"] in mount_paths, f"provider {p['name']} reads {p['options']['path']}, which is not mounted")
            n += 1
    for kind in ("Service", "PodDisruptionBudget"):
        (obj,) = [o for (k, _), o in res.items() if k == kind]
        sel = obj["spec"]["selector"]
        sel = sel.get("matchLabels", sel)
        expect(sel.items() <= labels.items(), f"the {kind}'s selector does not match the pods")
        n += 1
    svc = res[("Service", "pharos")]
    ports = [p["name"] for p in pod["spec"]["containers"][0]["ports"]]
    for p in svc["spec"]["ports"]:
        expect(p["targetPort"] in ports or p["targetPort"] == 3000, f"Service targets unknown port {p['targetPort']}")
    pdb = res[("PodDisruptionBudget", "pharos")]["spec"]
    expect(pdb.get("maxUnavailable") == 1 or pdb.get("minAvailable") == 2, "the PDB allows more than one replica down")
    hpa = res[("HorizontalPodAutoscaler", "pharos")]["spec"]
    expect(hpa["scaleTargetRef"]["name"] == dep["metadata"]["name"], "the HPA targets another Deployment")
    expect(hpa["minReplicas"] >= 3, f"the HPA may scale below 3 ({hpa['minReplicas']})")
    for v in (res[("Secret", "pharos")].get("stringData") or {}).values():
        expect("CHANGE-ME" in v, f"a Secret value is not a marked placeholder: {v!r}")
    return f"{n} references"


@check("kubernetes: the provisioning example in the ConfigMap is Grafana's format")
def k8s_provisioning(root):
    cm = k8s_resources(root)[("ConfigMap", "pharos-provisioning")]["data"]
    return check_provisioning_docs(
        {k: yaml.safe_load(v) for k, v in cm.items()}, "ConfigMap pharos-provisioning"
    )


def check_provisioning_docs(docs, where):
    kinds = set()
    for key, doc in docs.items():
        expect(doc.get("apiVersion") == 1, f"{where}/{key}: apiVersion is not 1")
        if "datasources" in doc:
            for ds in doc["datasources"]:
                expect(ds.get("name") and ds.get("type") and ds.get("uid"), f"{where}/{key}: datasource without name/type/uid")
            kinds.add("datasources")
        if "providers" in doc:
            for p in doc["providers"]:
                expect(p.get("name") and p.get("options", {}).get("path"), f"{where}/{key}: provider without name/options.path")
            kinds.add("dashboards")
    expect(kinds == {"datasources", "dashboards"}, f"{where}: has {sorted(kinds)}, wants datasources and dashboards")
    return ", ".join(sorted(docs))


@check("kubernetes: the ConfigMap's pharos.toml loads in pharos (`pharos migrate`, scratch SQLite)")
def k8s_toml_loads(root):
    binary = os.environ.get("PHAROS_BIN", str(root / "target/debug/pharos"))
    expect(os.access(binary, os.X_OK), f"no pharos binary at {binary} (cargo build first, or set PHAROS_BIN)")
    res = k8s_resources(root)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "pharos.toml").write_text(res[("ConfigMap", "pharos-config")]["data"]["pharos.toml"])
        # The provisioning ConfigMap laid out as the Deployment mounts it.
        dep = res[("Deployment", "pharos")]
        vol = [v for v in dep["spec"]["template"]["spec"]["volumes"] if v["name"] == "provisioning"][0]
        prov = res[("ConfigMap", "pharos-provisioning")]["data"]
        for item in vol["configMap"]["items"]:
            dest = tmp / "provisioning" / item["path"]
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(prov[item["key"]])
        env = {k: v for k, v in os.environ.items() if not k.startswith("PHAROS_")}
        env.update(
            PHAROS_DATABASE_URL=f"sqlite://{tmp}/pharos.db",
            PHAROS_SECURITY_SECRET_KEY="deploy-test-secret-key-0123456789",
            PHAROS_PATHS_PROVISIONING=str(tmp / "provisioning"),
        )
        r = run([binary, "--config", str(tmp / "pharos.toml"), "migrate"], env=env, cwd=tmp)
        expect(r.returncode == 0, f"exit {r.returncode}: {(r.stdout + r.stderr).strip()[-1500:]}")
    return binary


# --- HAProxy --------------------------------------------------------------------------------------


HAPROXY_REQUIRED = [
    r"option httpchk GET /readyz",
    r"http-check expect status 200",
    r"retries 3",
    r"option redispatch",
    r"retry-on conn-failure empty-response response-timeout",
    r"retry-on all-retryable-errors",
    r"use_backend pharos_keyed if \{ req\.hdr\(Idempotency-Key\) -m found \}",
    r"http-request disable-l7-retry if !\{ method GET HEAD OPTIONS \}",
    r"http-request use-service prometheus-exporter if \{ path /metrics \}",
    r"use_backend pharos_degraded if \{ nbsrv\(pharos\) lt 1 \}",
    r"acl read_only_post path /api/ds/query /api/ds/variable-options /login",
    r"http-error status 503 content-type application/json",
    r'server pharos1 "\$\{PHAROS_REPLICA_1\}"',
    r'server pharos2 "\$\{PHAROS_REPLICA_2\}"',
    r'server pharos3 "\$\{PHAROS_REPLICA_3\}"',
]


@check("haproxy: haproxy -c -f deploy/haproxy/haproxy.cfg (no warnings)")
def haproxy_syntax(root):
    cfg = root / "deploy/haproxy/haproxy.cfg"
    r = run(["haproxy", "-c", "-f", str(cfg)])
    out = (r.stdout + r.stderr).strip()
    expect(r.returncode == 0, f"exit {r.returncode}: {out}")
    expect("WARNING" not in out and "ALERT" not in out, out)
    text = cfg.read_text()
    for pattern in HAPROXY_REQUIRED:
        expect(re.search(pattern, text), f"haproxy.cfg lacks /{pattern}/")
    return out.splitlines()[-1]


class FakeReplica(BaseHTTPRequestHandler):
    """Answers /readyz with the server's `ready` status and anything else with its name. With
    `server.dying` set, it closes the connection without answering any POST or GET /api/dying (a
    replica killed while answering)."""

    def die_if_dying(self):
        if self.server.dying and (self.command == "POST" or self.path == "/api/dying"):
            self.server.cut += 1
            self.close_connection = True
            try:
                self.request.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return True
        return False

    def do_POST(self):
        length = int(self.headers.get("content-length") or 0)
        self.rfile.read(length)
        if not self.die_if_dying():
            self.do_GET()

    def do_GET(self):
        if self.die_if_dying():
            return
        if self.path == "/readyz":
            code = 200 if self.server.ready else 503
        else:
            code = 200
        body = json.dumps({"replica": self.server.name, "path": self.path}).encode()
        self.send_response(code)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:
            pass  # HAProxy closes a health check's connection as soon as it has the status line

    def log_message(self, *args):
        pass


@check("haproxy: runs with the file against three stand-in replicas (checks, routing, retries, /metrics, /healthz)")
def haproxy_runs(root):
    servers = []
    for i, ready in enumerate([True, True, False], start=1):
        s = ThreadingHTTPServer(("127.0.0.1", 0), FakeReplica)
        s.name, s.ready, s.dying, s.cut = f"r{i}", ready, False, 0
        threading.Thread(target=s.serve_forever, daemon=True).start()
        servers.append(s)
    lb, stats = free_port(), free_port()
    env = dict(os.environ)
    env.update({f"PHAROS_REPLICA_{i}": f"127.0.0.1:{s.server_address[1]}" for i, s in enumerate(servers, 1)})
    env.update(PHAROS_LB_BIND=f"127.0.0.1:{lb}", PHAROS_LB_STATS_BIND=f"127.0.0.1:{stats}")
    proc = subprocess.Popen(["haproxy", "-db", "-f", str(root / "deploy/haproxy/haproxy.cfg")], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def get(url, headers=None, data=None):
        req = urllib.request.Request(url, headers=headers or {}, data=data)
        try:
            with urllib.request.urlopen(req, timeout=3) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    try:
        metrics = ""
        deadline = time.time() + 15
        # Wait until the checks have settled: two replicas up, the third (503 on /readyz) down.
        while time.time() < deadline:
            try:
                _, metrics = get(f"http://127.0.0.1:{stats}/metrics")
                m = re.search(r'^haproxy_backend_active_servers\{proxy="pharos"\} (\d+)', metrics, re.M)
                if m and m.group(1) == "2" and 'haproxy_server_status{proxy="pharos",server="pharos3",state="DOWN"} 1' in metrics:
                    break
            except OSError:
                pass
            time.sleep(0.2)
        else:
            raise CheckFailed("HAProxy did not settle on 2 ready replicas of 3 within 15 s")
        for name in ["haproxy_backend_active_servers", "haproxy_backend_retry_warnings_total",
                     "haproxy_backend_redispatch_warnings_total"]:
            expect(re.search(rf"^{name}\{{", metrics, re.M), f"/metrics lacks {name} (used by the alerts or the dashboard)")
        seen = set()
        for _ in range(6):
            status, body = get(f"http://127.0.0.1:{lb}/api/search")
            expect(status == 200, f"GET through HAProxy answered {status}: {body}")
            seen.add(json.loads(body)["replica"])
        expect(seen == {"r1", "r2"}, f"requests reached {sorted(seen)}, want r1 and r2 (r3 is not ready)")
        seen = set()
        for _ in range(4):
            status, body = get(f"http://127.0.0.1:{lb}/api/search", {"Idempotency-Key": "k"})
            expect(status == 200, f"keyed request answered {status}")
            seen.add(json.loads(body)["replica"])
        expect(seen == {"r1", "r2"}, f"keyed requests reached {sorted(seen)}: the tracking backend disagrees")
        # r1 now cuts the connection of every write (and of GET /api/dying) without answering.
        servers[0].dying = True
        lb_url = f"http://127.0.0.1:{lb}"
        # Reads are retried on another replica.
        for _ in range(4):
            status, body = get(f"{lb_url}/api/dying")
            expect(status == 200 and json.loads(body)["replica"] == "r2", f"a cut GET was not retried on r2: {status} {body}")
        # Writes without a key are not retried once sent: the client sees the failure. (HAProxy may
        # not replay these even without `disable-l7-retry`, so haproxy_syntax also requires that line.)
        statuses = []
        for i in range(4):
            status, body = get(f"{lb_url}/api/dashboards/db", {"content-type": "application/json"}, b"{}")
            statuses.append(status)
            if status == 200:
                expect(json.loads(body)["replica"] == "r2", f"an unkeyed write answered 200 from {body}")
        expect(502 in statuses, f"no unkeyed write reached the dying replica (statuses {statuses}); was it retried?")
        # Queries sent as POST only read: retried like a GET.
        for _ in range(4):
            status, body = get(f"{lb_url}/api/ds/query", {"content-type": "application/json"}, b"{}")
            expect(status == 200 and json.loads(body)["replica"] == "r2", f"a cut POST /api/ds/query was not retried on r2: {status} {body}")
        # Writes with an Idempotency-Key are retried on another replica.
        for i in range(4):
            status, body = get(f"{lb_url}/api/dashboards/db", {"content-type": "application/json", "Idempotency-Key": f"k{i}"}, b"{}")
            expect(status == 200 and json.loads(body)["replica"] == "r2", f"a keyed write was not retried on r2: {status} {body}")
        cut = servers[0].cut
        expect(cut >= 3, f"r1 cut only {cut} requests: the retries were not exercised")
        servers[0].dying = False
        status, _ = get(f"http://127.0.0.1:{stats}/healthz")
        expect(status == 200, f"/healthz answered {status} with replicas up")
        for s in servers:
            s.ready = False
        deadline = time.time() + 10
        while time.time() < deadline:
            status, _ = get(f"http://127.0.0.1:{stats}/healthz")
            if status == 503:
                break
            time.sleep(0.2)
        else:
            raise CheckFailed("/healthz still 200 10 s after every replica turned unready")
        # No replica ready (a database outage): requests still reach the live ones (pharos_degraded).
        status, body = get(f"{lb_url}/api/search")
        expect(status == 200 and json.loads(body)["replica"] in ("r1", "r2", "r3"),
               f"with no replica ready, a GET answered {status}: {body} (pharos_degraded unused?)")
        # No replica alive at all: HAProxy's own 503, as JSON with a message.
        for s in servers:
            s.shutdown()
            s.server_close()
        deadline = time.time() + 10
        while time.time() < deadline:
            status, body = get(f"{lb_url}/api/search")
            if status == 503:
                break
            time.sleep(0.2)
        expect(status == 503, f"with every replica gone, a GET answered {status}")
        expect(json.loads(body).get("message"), f"HAProxy's 503 is not JSON with a message: {body}")
        return (f"2 of 3 ready, unready one skipped; cut GETs, POST queries and keyed writes retried, unkeyed "
                f"writes not ({statuses.count(502)} of 4 failed); /healthz 503 with none ready, which still get "
                f"traffic (degraded); HAProxy's 503 is JSON")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        for s in servers:
            s.shutdown()


# --- keepalived -----------------------------------------------------------------------------------


@check("keepalived: keepalived --config-test on deploy/keepalived/keepalived.conf")
def keepalived_test(root):
    conf = root / "deploy/keepalived/keepalived.conf"
    r = run(["keepalived", "--config-test", "-f", str(conf), "--log-console", "--dont-fork"],
            start_new_session=True)
    out = (r.stdout + r.stderr).strip()
    # Debian 12's keepalived (2.2.7) ends a config test of a file with a vrrp_script with SIGTERM
    # (status 143), whether or not it found errors; the errors are printed. See
    # deploy/keepalived/README.md.
    expect(r.returncode in (0, 143, -15), f"exit {r.returncode}: {out}")
    expect(out == "", f"the config test printed: {out}")
    text = conf.read_text()
    for word in ("vrrp_script chk_haproxy", "track_script", "virtual_ipaddress", "/healthz"):
        expect(word in text, f"keepalived.conf lacks {word}")
    return f"exit {r.returncode}, nothing reported"


# --- Prometheus -----------------------------------------------------------------------------------


@check("prometheus: promtool check config deploy/prometheus/prometheus.yml")
def promtool_config(root):
    r = run(["promtool", "check", "config", str(root / "deploy/prometheus/prometheus.yml")])
    expect(r.returncode == 0, (r.stdout + r.stderr).strip())
    return "valid"


@check("prometheus: promtool check rules deploy/prometheus/pharos-alerts.yml")
def promtool_rules(root):
    r = run(["promtool", "check", "rules", str(root / "deploy/prometheus/pharos-alerts.yml")])
    out = (r.stdout + r.stderr).strip()
    expect(r.returncode == 0, out)
    names = {rule["alert"] for g in yaml.safe_load((root / "deploy/prometheus/pharos-alerts.yml").read_text())["groups"]
             for rule in g["rules"]}
    wanted = {"PharosReplicaDown", "PharosHighErrorRatio", "PharosHighLatency", "PharosDatabaseFailing",
              "PharosNoLeaseHolder"}
    expect(wanted <= names, f"missing alerts: {sorted(wanted - names)}")
    return re.search(r"\d+ rules found", out).group(0)


@check("prometheus: promtool test rules (deploy/prometheus/tests/*.yml)")
def promtool_unit(root):
    tests = sorted((root / "deploy/prometheus/tests").glob("*.yml"))
    expect(tests, "no rule tests")
    r = run(["promtool", "test", "rules", *[t.name for t in tests]], cwd=tests[0].parent)
    out = (r.stdout + r.stderr).strip()
    expect(r.returncode == 0, out[-3000:])
    # Every alert has at least one test case that expects it to fire.
    rules = yaml.safe_load((root / "deploy/prometheus/pharos-alerts.yml").read_text())
    alerts = {rule["alert"] for g in rules["groups"] for rule in g["rules"]}
    fired = set()
    for t in tests:
        for case in yaml.safe_load(t.read_text())["tests"]:
            for a in case.get("alert_rule_test", []):
                if a.get("exp_alerts"):
                    fired.add(a["alertname"])
    expect(alerts <= fired, f"alerts never tested firing: {sorted(alerts - fired)}")
    return f"{len(alerts)} alerts each tested firing"


@check("prometheus: the scrape config lists every compose replica and HAProxy's stats endpoint")
def prometheus_targets(root):
    prom = yaml.safe_load((root / "deploy/prometheus/prometheus.yml").read_text())
    jobs = {j["job_name"]: j for j in prom["scrape_configs"]}
    expect("pharos" in jobs and "haproxy" in jobs, f"jobs: {sorted(jobs)}")
    targets = {t for sc in jobs["pharos"].get("static_configs", []) for t in sc["targets"]}
    compose = yaml.safe_load((root / "deploy/compose/compose.yaml").read_text())
    replicas = {f"{name}:3000" for name in compose["services"] if name.startswith("pharos-")}
    expect(targets == replicas, f"scrape targets {sorted(targets)} != compose replicas {sorted(replicas)}")
    stats_port = compose["services"]["haproxy"]["environment"]["PHAROS_LB_STATS_BIND"].rsplit(":", 1)[1]
    ha = {t for sc in jobs["haproxy"]["static_configs"] for t in sc["targets"]}
    expect(ha == {f"haproxy:{stats_port}"}, f"haproxy target {ha} != the stats bind port {stats_port}")
    return f"{len(targets)} replicas + haproxy"


# --- the self-monitoring dashboard and compose's provisioning -------------------------------------


@check("dashboards: deploy/dashboards/*.json are dashboards whose queries parse (promtool)")
def dashboards(root):
    files = sorted((root / "deploy/dashboards").glob("*.json"))
    expect(files, "no dashboard")
    prov_ds = yaml.safe_load((root / "deploy/compose/provisioning/datasources/prometheus.yaml").read_text())
    uids = {d["uid"] for d in prov_ds["datasources"]}
    exprs = []
    for f in files:
        d = json.loads(f.read_text())
        expect(d.get("uid") and d.get("title") and d.get("panels"), f"{f.name}: no uid, title or panels")
        ids = [p["id"] for p in d["panels"]]
        expect(len(ids) == len(set(ids)), f"{f.name}: duplicate panel ids")
        for p in d["panels"]:
            for t in p.get("targets", []):
                ds = t.get("datasource") or p.get("datasource")
                expect(ds and ds.get("uid") in uids, f"{f.name} panel {p['id']}: datasource {ds} is not provisioned")
                exprs.append(t["expr"])
    # promtool has no "parse this expression" command: check them as recording rules.
    rules = {"groups": [{"name": "dashboard", "rules": [
        {"record": f"dashboard:expr{i}", "expr": e.replace("$__rate_interval", "5m")} for i, e in enumerate(exprs)]}]}
    with tempfile.NamedTemporaryFile("w", suffix=".yml") as tmp:
        yaml.safe_dump(rules, tmp)
        tmp.flush()
        r = run(["promtool", "check", "rules", tmp.name])
    expect(r.returncode == 0, (r.stdout + r.stderr).strip()[-2000:])
    return f"{len(files)} dashboard(s), {len(exprs)} queries"


@check("compose: provisioning files are Grafana's format and the dashboards folder is mounted")
def compose_provisioning(root):
    base = root / "deploy/compose/provisioning"
    docs = {str(p.relative_to(base)): yaml.safe_load(p.read_text()) for p in sorted(base.glob("*/*.yaml"))}
    detail = check_provisioning_docs(docs, "deploy/compose/provisioning")
    compose = yaml.safe_load((root / "deploy/compose/compose.yaml").read_text())
    mounts = {v.split(":")[1]: v.split(":")[0] for v in compose["services"]["pharos-1"]["volumes"]}
    for doc in docs.values():
        for p in doc.get("providers", []):
            path = p["options"]["path"]
            expect(path in mounts, f"provider path {path} is not mounted in pharos-1")
            src = (root / "deploy/compose" / mounts[path]).resolve()
            expect(any(src.glob("*.json")), f"{src} (mounted at {path}) holds no dashboard")
    return detail


@check("compose: pharos serve provisions the compose datasource and its own dashboard (SQLite)")
def compose_provisioning_applied(root):
    binary = os.environ.get("PHAROS_BIN", str(root / "target/debug/pharos"))
    expect(os.access(binary, os.X_OK), f"no pharos binary at {binary} (cargo build first, or set PHAROS_BIN)")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        # deploy/compose/provisioning as mounted, with the provider reading deploy/dashboards where
        # compose mounts it at /etc/pharos/dashboards.
        prov = tmp / "provisioning"
        shutil.copytree(root / "deploy/compose/provisioning", prov)
        for f in (prov / "dashboards").glob("*.yaml"):
            doc = yaml.safe_load(f.read_text())
            for p in doc["providers"]:
                expect(p["options"]["path"] == "/etc/pharos/dashboards", f"{f.name}: provider path changed")
                p["options"]["path"] = str(root / "deploy/dashboards")
            f.write_text(yaml.safe_dump(doc))
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("PHAROS_")}
        env.update(
            PHAROS_DATABASE_URL=f"sqlite://{tmp}/pharos.db",
            PHAROS_SECURITY_SECRET_KEY="deploy-test-secret-key-0123456789",
            PHAROS_PATHS_PROVISIONING=str(prov),
            PHAROS_SERVER_LISTEN=f"127.0.0.1:{port}",
            PHAROS_SERVER_DEMO_DATA="false",
        )
        log = open(tmp / "pharos.log", "w")
        proc = subprocess.Popen([binary, "serve"], env=env, cwd=tmp, stdout=log, stderr=subprocess.STDOUT)
        auth = "Basic " + __import__("base64").b64encode(b"admin:admin").decode()

        def get(path):
            req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Authorization": auth})
            try:
                with urllib.request.urlopen(req, timeout=3) as resp:
                    return resp.status, json.loads(resp.read() or b"null")
            except urllib.error.HTTPError as e:
                return e.code, None
            except OSError:
                return None, None

        try:
            dashboards = [json.loads(f.read_text())["uid"] for f in sorted((root / "deploy/dashboards").glob("*.json"))]
            deadline = time.time() + 60
            missing = ["start"]
            while time.time() < deadline and missing:
                expect(proc.poll() is None, f"pharos exited {proc.returncode}: {(tmp / 'pharos.log').read_text()[-1500:]}")
                missing = []
                status, ds = get("/api/datasources/uid/prometheus")
                if status != 200:
                    missing.append(f"datasource prometheus ({status})")
                for uid in dashboards:
                    status, d = get(f"/api/dashboards/uid/{uid}")
                    if status != 200:
                        missing.append(f"dashboard {uid} ({status})")
                    else:
                        meta = d["meta"]
                        expect(meta.get("folderTitle") == "Pharos", f"{uid} is in folder {meta.get('folderTitle')!r}")
                        expect(meta.get("provisioned") is True, f"{uid} is not marked provisioned")
                time.sleep(0.5)
            expect(not missing, f"not provisioned within 60 s: {missing}; log: {(tmp / 'pharos.log').read_text()[-1500:]}")
            expect(ds["url"] == "http://prometheus:9090", f"datasource url {ds['url']}")
            return f"datasource prometheus and {len(dashboards)} dashboard(s) in folder Pharos"
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=45)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.close()


# --- compose and Dockerfile -----------------------------------------------------------------------


def dockerfile_healthcheck(root):
    text = (root / "Dockerfile").read_text().replace("\\\n", " ")
    m = re.search(r"^HEALTHCHECK .*$", text, re.M)
    expect(m, "the Dockerfile has no HEALTHCHECK")
    return m.group(0)


@check("compose: three replicas, HAProxy with deploy/haproxy/haproxy.cfg, PostgreSQL, Prometheus")
def compose_file(root):
    path = root / "deploy/compose/compose.yaml"
    compose = yaml.safe_load(path.read_text())
    services = compose["services"]
    replicas = sorted(n for n in services if n.startswith("pharos-"))
    expect(len(replicas) == 3, f"replicas: {replicas}")
    for n in ("haproxy", "postgres", "prometheus"):
        expect(n in services, f"no {n} service")
    # Every host path mounted exists.
    for name, svc in services.items():
        for v in svc.get("volumes", []):
            src = v.split(":")[0]
            if src.startswith("."):
                expect((path.parent / src).exists(), f"{name} mounts {src}, which does not exist")
    ha = services["haproxy"]
    mounted = {(path.parent / v.split(":")[0]).resolve(): v.split(":")[1] for v in ha["volumes"]}
    cfg = (root / "deploy/haproxy/haproxy.cfg").resolve()
    expect(mounted.get(cfg) == "/usr/local/etc/haproxy/haproxy.cfg",
           f"haproxy does not mount deploy/haproxy/haproxy.cfg at the image's config path: {mounted}")
    env = ha["environment"]
    want = {f"PHAROS_REPLICA_{i}": f"{r}:3000" for i, r in enumerate(replicas, 1)}
    got = {k: env.get(k) for k in want}
    expect(got == want, f"HAProxy's replica addresses {got} != {want}")
    used = set(re.findall(r"\$\{(PHAROS_[A-Z0-9_]+)\}", cfg.read_text()))
    expect(used <= env.keys(), f"haproxy.cfg uses {sorted(used - env.keys())}, which compose does not set")
    prom = services["prometheus"]
    prom_src = {(path.parent / v.split(":")[0]).resolve() for v in prom["volumes"] if v.startswith(".")}
    for f in ("prometheus.yml", "pharos-alerts.yml"):
        expect((root / "deploy/prometheus" / f).resolve() in prom_src, f"prometheus does not mount deploy/prometheus/{f}")
    for r in replicas:
        svc = services[r]
        expect(svc["build"]["dockerfile"] == "Dockerfile" and (path.parent / svc["build"]["context"]).resolve() == root,
               f"{r} is not built from the repository's Dockerfile")
        hc = " ".join(svc["healthcheck"]["test"])
        expect("/livez" in hc, f"{r}'s healthcheck is not on /livez: {hc}")
        e = svc["environment"]
        for k in ("PHAROS_DATABASE_URL", "PHAROS_SECURITY_SECRET_KEY"):
            expect(k in e, f"{r} lacks {k}")
        expect(e["PHAROS_CLUSTER_ADVERTISE_ADDRESS"] == f"{r}:3000", f"{r} advertises {e['PHAROS_CLUSTER_ADVERTISE_ADDRESS']}")
        grace = seconds(svc["stop_grace_period"])
        expect(grace > 5 + 30 + 2, f"{r}: stop_grace_period {grace}s <= drain 5 s + shutdown 30 s + 2 s")
        expect(svc["depends_on"]["postgres"]["condition"] == "service_healthy", f"{r} does not wait for PostgreSQL")
    # The secrets are required variables, never literal values in the file.
    e = services[replicas[0]]["environment"]
    expect("${PHAROS_SECRET_KEY:?" in e["PHAROS_SECURITY_SECRET_KEY"], "the secret key is not a required variable")
    expect(dockerfile_healthcheck(root).count("/livez") == 1, "the Dockerfile's HEALTHCHECK is not on /livez")
    return f"{', '.join(replicas)}; haproxy.cfg and probes shared"


@check("Dockerfile: multi-stage (node, rust, slim runtime), non-root, HEALTHCHECK on /livez")
def dockerfile(root):
    text = (root / "Dockerfile").read_text()
    joined = text.replace("\\\n", " ")
    froms = re.findall(r"^FROM\s+(\S+)(?:\s+AS\s+(\S+))?", joined, re.M | re.I)
    expect(len(froms) >= 3, f"{len(froms)} stages, want node, rust and the runtime")
    images = [f[0] for f in froms]
    expect(any(i.startswith("node:") for i in images), "no node stage")
    expect(any(i.startswith("rust:") for i in images), "no rust stage")
    runtime = images[-1]
    expect(re.match(r"(debian:.*slim|gcr\.io/distroless/cc)", runtime), f"runtime image {runtime} is not small")
    users = re.findall(r"^USER\s+(\S+)", joined, re.M)
    expect(users and users[-1].split(":")[0] not in ("root", "0"), f"runs as {users[-1] if users else 'root'}")
    hc = dockerfile_healthcheck(root)
    expect("/livez" in hc, f"HEALTHCHECK not on /livez: {hc}")
    expect(re.search(r"^EXPOSE 3000", joined, re.M), "no EXPOSE 3000")
    # Environment variables beat the settings file: one set in the image would override a mounted
    # pharos.toml without a word.
    expect(not re.search(r"^ENV\b.*\bPHAROS_", joined, re.M), "the image sets a PHAROS_* variable")
    expect('ENTRYPOINT ["/usr/local/bin/pharos"]' in joined, "the entrypoint is not the pharos binary")
    # Every COPY source from the build context exists and is not excluded by .dockerignore.
    ignore = [l.strip() for l in (root / ".dockerignore").read_text().splitlines() if l.strip() and not l.startswith("#")]
    allowed = {l[1:].rstrip("/") for l in ignore if l.startswith("!")}
    n = 0
    for line in re.findall(r"^COPY\s+(?!--from)(.+)$", joined, re.M):
        *srcs, _dest = line.split()
        for src in srcs:
            expect((root / src).exists(), f"COPY {src}: no such path")
            top = src.split("/")[0]
            expect(top in allowed, f"COPY {src}: excluded by .dockerignore")
            n += 1
    # Lines must not use tabs or trailing spaces (the minimal lint we can do without hadolint).
    for i, l in enumerate(text.splitlines(), 1):
        expect(l == l.rstrip(), f"Dockerfile line {i} has trailing whitespace")
    return f"{len(froms)} stages, runtime {runtime}, user {users[-1]}, {n} COPY sources"


@check("docs: docs/high-availability.md names every file of the deploy kit")
def docs(root):
    text = (root / "docs/high-availability.md").read_text()
    missing = []
    for p in sorted((root / "deploy").rglob("*")):
        if p.is_file() and p.name != "README.md":
            rel = p.relative_to(root)
            if str(rel) not in text and f"{rel.parent}/" not in text:
                missing.append(str(rel))
    expect(not missing, f"not mentioned: {missing}")
    expect("## Measured" in text, "no 'Measured' section")
    return "all mentioned"


# --- helpers --------------------------------------------------------------------------------------


def seconds(text):
    """'45s', '1m 30s', '5s' -> seconds (the forms Pharos and compose use)."""
    total = 0
    for n, unit in re.findall(r"(\d+)\s*([smh])", str(text)):
        total += int(n) * {"s": 1, "m": 60, "h": 3600}[unit]
    return total


def tomllib_loads(text):
    import tomllib

    return tomllib.loads(text)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", type=Path, required=True)
    ap.add_argument("--kubernetes-validate", required=True)
    args = ap.parse_args()
    root = args.root.resolve()
    for tool in ("haproxy", "keepalived", "promtool"):
        if not shutil.which(tool):
            print(f"FAIL {tool} is not installed (scripts/install-deps installs it)")
            RESULTS.append(False)
    k8s_validate(root, args.kubernetes_validate)
    k8s_deployment(root)
    k8s_references(root)
    k8s_provisioning(root)
    k8s_toml_loads(root)
    haproxy_syntax(root)
    haproxy_runs(root)
    keepalived_test(root)
    promtool_config(root)
    promtool_rules(root)
    promtool_unit(root)
    prometheus_targets(root)
    dashboards(root)
    compose_provisioning(root)
    compose_provisioning_applied(root)
    compose_file(root)
    dockerfile(root)
    docs(root)
    passed, failed = RESULTS.count(True), RESULTS.count(False)
    print(f"deploy checks: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
