#!/usr/bin/env python3
"""Backs up one running Pharos with the PyPI tool `grafana-backup` and restores it into another.

Usage: scenario.py SOURCE_URL TARGET_URL [--user admin] [--password admin] [--label NAME]

SOURCE is filled through its API (folders, dashboards in and out of folders with tags and saved
versions, datasources with a secret, users, an alert rule, a contact point), then `grafana-backup
save` (every component, as the tool runs by default) reads it with a service-account token (and
the server admin's basic auth, which the tool needs for users), and `grafana-backup restore`
writes the archive into TARGET, which must be empty. The two are then
compared through the API. Every step prints one line (ok / FAIL / SKIP); the last line is the
summary that scripts/test counts. Exit 1 if any step failed or was skipped.

What the tool cannot carry, by its own design, is not compared: datasource secrets (it saves the
datasource list, which never holds them), dashboard version history (it saves versions but has no
restore for them), service accounts and their tokens (it has no such component), users' passwords
and org roles (it restores every user with one default password, and its add-to-org call meets a
user already in the main org, as in Grafana).
"""

from __future__ import annotations

import argparse
import copy
import glob
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import time
import traceback

import requests


class StepFailed(Exception):
    pass


def expect(condition, message):
    """Fails the current step with `message` unless `condition` holds (never `assert`: -O)."""
    if not condition:
        raise StepFailed(message)


def short(value, limit=400):
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class Api:
    """A thin JSON client for one Pharos."""

    def __init__(self, url, auth=None, token=None):
        self.url = url.rstrip("/")
        self.session = requests.Session()
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"
        elif auth:
            self.session.auth = auth

    def call(self, method, path, body=None, ok=(200,)):
        response = self.session.request(method, self.url + path, json=body, timeout=30)
        try:
            payload = response.json() if response.content else None
        except ValueError:
            payload = response.text
        if response.status_code not in ok:
            raise StepFailed(f"{method} {path} -> HTTP {response.status_code} {short(payload)}")
        return payload

    def get(self, path):
        return self.call("GET", path)

    def post(self, path, body, ok=(200,)):
        return self.call("POST", path, body, ok)


# ------------------------------------------------------------------ what the source holds

FOLDERS = [("gb-ops", "Operations"), ("gb-apps", "Applications & Services")]

# (uid, title, folder uid or "" for General, tags, number of saves)
DASHBOARDS = [
    ("gb-ops-nodes", "Node overview", "gb-ops", ["linux", "nodes"], 1),
    ("gb-ops-disk", "Disk I/O", "gb-ops", ["linux"], 3),
    ("gb-ops-net", "Network", "gb-ops", [], 1),
    ("gb-ops-ha", "HA cluster", "gb-ops", ["pharos", "ha"], 2),
    ("gb-apps-api", "API latency", "gb-apps", ["api", "slo"], 1),
    ("gb-apps-db", "Database", "gb-apps", ["db"], 1),
    ("gb-apps-queue", "Queue depth (ünïcode)", "gb-apps", ["queue"], 1),
    ("gb-home", "Team home", "", ["home"], 2),
    ("gb-influx", "InfluxDB writes", "", ["influx"], 1),
    ("gb-empty", "Empty", "", [], 1),
]


def dashboard_model(uid, title, tags, revision):
    """A dashboard with panels on each datasource, a variable and a row, as a user would save."""
    return {
        "uid": uid,
        "title": title,
        "tags": tags,
        "timezone": "utc",
        "schemaVersion": 39,
        "refresh": "30s",
        "time": {"from": "now-3h", "to": "now"},
        "description": f"revision {revision}",
        "templating": {
            "list": [
                {
                    "name": "job",
                    "type": "query",
                    "datasource": {"type": "prometheus", "uid": "gb-prom"},
                    "query": "label_values(up, job)",
                    "multi": True,
                    "includeAll": True,
                }
            ]
        },
        "panels": [
            {
                "id": 1,
                "type": "timeseries",
                "title": "Up by job",
                "gridPos": {"h": 8, "w": 12, "x": 0, "y": 0},
                "datasource": {"type": "prometheus", "uid": "gb-prom"},
                "targets": [{"refId": "A", "expr": 'sum by (job) (up{job=~"$job"})'}],
            },
            {
                "id": 2,
                "type": "stat",
                "title": "Writes",
                "gridPos": {"h": 8, "w": 12, "x": 12, "y": 0},
                "datasource": {"type": "influxdb", "uid": "gb-influx"},
                "targets": [{"refId": "A", "query": 'SELECT count("value") FROM "writes"'}],
            },
            {"id": 3, "type": "row", "title": "Details", "collapsed": False,
             "gridPos": {"h": 1, "w": 24, "x": 0, "y": 8}, "panels": []},
        ],
    }


DATASOURCES = [
    {
        "uid": "gb-prom",
        "name": "Prometheus main",
        "type": "prometheus",
        "access": "proxy",
        "url": "http://127.0.0.1:9090",
        "basicAuth": True,
        "basicAuthUser": "scraper",
        "jsonData": {"httpMethod": "POST", "timeInterval": "15s"},
        "secureJsonData": {"basicAuthPassword": "not-in-the-backup"},
    },
    {
        "uid": "gb-influx",
        "name": "InfluxDB metrics",
        "type": "influxdb",
        "access": "proxy",
        "url": "http://127.0.0.1:8086",
        "database": "telegraf",
        "user": "reader",
        "jsonData": {"httpMode": "GET"},
        "secureJsonData": {"password": "not-in-the-backup-either"},
    },
    {"uid": "gb-testdata", "name": "Test data", "type": "grafana-testdata-datasource", "access": "proxy"},
]

# Users: the tool saves them with the server admin's basic auth and restores each with one
# default password (it cannot read passwords), as a Viewer of the main org.
USERS = [
    {"login": "alice", "email": "alice@example.com", "name": "Alice Ops", "password": "alice-secret-1"},
    {"login": "bob", "email": "bob@example.com", "name": "Bob Dev", "password": "bob-secret-22"},
]
RESTORED_PASSWORD = "restored-by-grafana-backup"

CONTACT_POINT = {
    "uid": "gb-webhook",
    "name": "ops-webhook",
    "type": "webhook",
    "settings": {"url": "http://127.0.0.1:9/alerts", "httpMethod": "POST"},
    "disableResolveMessage": False,
}

ALERT_RULE = {
    "uid": "gb-rule",
    "title": "Queue too deep",
    "folderUID": "gb-ops",
    "ruleGroup": "queues",
    "condition": "C",
    "for": "5m",
    "noDataState": "NoData",
    "execErrState": "Error",
    "labels": {"severity": "page"},
    "annotations": {"summary": "queue depth is {{ $values.B.Value }}"},
    "data": [
        {"refId": "A", "relativeTimeRange": {"from": 600, "to": 0}, "datasourceUid": "gb-testdata",
         "model": {"refId": "A", "scenarioId": "csv_metric_values", "stringInput": "1,2,3"}},
        {"refId": "B", "datasourceUid": "__expr__",
         "model": {"type": "reduce", "expression": "A", "reducer": "last", "refId": "B"}},
        {"refId": "C", "datasourceUid": "__expr__",
         "model": {"type": "threshold", "expression": "B", "refId": "C",
                   "conditions": [{"evaluator": {"type": "gt", "params": [100]}}]}},
    ],
}

# ------------------------------------------------------------------ comparisons


def strip(value, keys):
    value = copy.deepcopy(value)
    for key in keys:
        value.pop(key, None)
    return value


def folders_of(api):
    return sorted((f["uid"], f["title"]) for f in api.get("/api/folders"))


def dashboards_of(api):
    """uid → (dashboard JSON without id and version, folder uid), for every dashboard."""
    found = {}
    for hit in api.get("/api/search?type=dash-db&limit=5000"):
        got = api.get(f"/api/dashboards/uid/{hit['uid']}")
        found[hit["uid"]] = (strip(got["dashboard"], ["id", "version"]), got["meta"].get("folderUid", ""))
    return found


# What the tool carries: it saves the datasource list (`GET /api/datasources`), whose items in
# Grafana, and so in Pharos, have no secrets, no `basicAuthUser` and no `withCredentials`.
DATASOURCE_FIELDS = ["uid", "name", "type", "access", "url", "user", "database", "basicAuth",
                     "isDefault", "jsonData", "readOnly"]


def datasources_of(api):
    """uid → the datasource's fields without its id, version or secrets."""
    found = {}
    for listed in api.get("/api/datasources"):
        full = api.get(f"/api/datasources/uid/{listed['uid']}")
        found[listed["uid"]] = {k: full.get(k) for k in DATASOURCE_FIELDS}
    return found


def users_of(api):
    return sorted((u["login"], u["email"], u["name"], u["isAdmin"]) for u in api.get("/api/users?perpage=1000"))


def rules_of(api):
    # `updated` is the write's time; `provenance` is "api" for a rule made through the API and
    # none for one restored with X-Disable-Provenance (which the tool sends); `version` counts
    # saves on that server.
    return {r["uid"]: strip(r, ["id", "updated", "provenance", "version"])
            for r in api.get("/api/v1/provisioning/alert-rules")}


def contact_points_of(api):
    return {c["uid"]: strip(c, ["provenance", "version"])
            for c in api.get("/api/v1/provisioning/contact-points")}


def diff(name, source, target):
    """Fails with the first differences between two dicts keyed by uid."""
    problems = []
    for key in sorted(set(source) | set(target)):
        if key not in target:
            problems.append(f"{key} missing in the target")
        elif key not in source:
            problems.append(f"{key} in the target only")
        elif source[key] != target[key]:
            problems.append(f"{key}: source {short(source[key], 300)} != target {short(target[key], 300)}")
    expect(not problems, f"{name} differ: " + "; ".join(problems[:5]))


# ------------------------------------------------------------------ the scenario


class Scenario:
    def __init__(self, source_url, target_url, user, password, label):
        self.label = label
        self.source = Api(source_url, auth=(user, password))
        self.target = Api(target_url, auth=(user, password))
        self.user, self.password = user, password
        self.source_url = source_url
        self.target_url = target_url
        self.passed = 0
        self.failed = []
        self.skipped = []
        self.state = {}
        self.work = tempfile.mkdtemp(prefix="grafana-backup-")

    def step(self, name, needs=()):
        def run(fn):
            missing = [n for n in needs if n not in self.state]
            if missing:
                self.skipped.append(name)
                print(f"SKIP {name} (needs {', '.join(missing)})", flush=True)
                return fn
            started = time.monotonic()
            try:
                fn()
            except StepFailed as e:
                self.failed.append(name)
                print(f"FAIL {name}: {e}", flush=True)
            except Exception:  # noqa: BLE001 - any crash is this step's failure, reported in full
                self.failed.append(name)
                print(f"FAIL {name}: unexpected error\n{traceback.format_exc()}", flush=True)
            else:
                self.passed += 1
                print(f"ok   {name} ({time.monotonic() - started:.1f} s)", flush=True)
            return fn

        return run

    def service_account_token(self, api, name):
        account = api.post("/api/serviceaccounts", {"name": name, "role": "Admin"}, ok=(200, 201))
        token = api.post(f"/api/serviceaccounts/{account['id']}/tokens", {"name": name}, ok=(200, 201))
        return token["key"]

    def tool(self, args, url, token, log_name):
        """Runs the grafana-backup command line (next to this interpreter) against one Pharos."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GRAFANA_", "PHAROS_"))}
        env.update({
            "GRAFANA_URL": url,
            "GRAFANA_TOKEN": token,
            "BACKUP_DIR": os.path.join(self.work, "backup"),
            "VERIFY_SSL": "false",
            "GRAFANA_ADMIN_ACCOUNT": self.user,
            "GRAFANA_ADMIN_PASSWORD": self.password,
            "DEFAULT_USER_PASSWORD": RESTORED_PASSWORD,
            "DEBUG": "true",
            # Without --config the tool reads ~/.grafana-backup.json: keep the caller's out.
            "HOME": self.work,
        })
        command = [os.path.join(os.path.dirname(sys.executable), "grafana-backup"), *args,
                   f"--config={os.path.join(os.path.dirname(os.path.abspath(__file__)), 'grafana-backup.json')}"]
        started = time.monotonic()
        run = subprocess.run(command, env=env, cwd=self.work, capture_output=True, text=True, timeout=300)
        log_path = os.path.join(self.work, log_name)
        with open(log_path, "w") as f:
            f.write(run.stdout + run.stderr)
        output = run.stdout + run.stderr
        expect(run.returncode == 0,
               f"{' '.join(args)} exited {run.returncode}; its output ends:\n{output[-3000:]}")
        expect("Traceback" not in output, f"{' '.join(args)} printed a traceback:\n{output[-3000:]}")
        return output, time.monotonic() - started

    def run(self):
        source, target, st = self.source, self.target, self.state

        @self.step("source: folders, 10 dashboards (versions, tags), 3 datasources, 2 users, alert rule, contact point")
        def _():
            for uid, title in FOLDERS:
                source.post("/api/folders", {"uid": uid, "title": title})
            for spec in DATASOURCES:
                source.post("/api/datasources", spec)
            for uid, title, folder, tags, saves in DASHBOARDS:
                for revision in range(1, saves + 1):
                    source.post("/api/dashboards/db", {
                        "dashboard": dashboard_model(uid, title, tags, revision),
                        "folderUid": folder, "overwrite": True, "message": f"save {revision}",
                    })
            for user in USERS:
                source.post("/api/admin/users", user)
            source.post("/api/v1/provisioning/contact-points", CONTACT_POINT, ok=(202,))
            source.post("/api/v1/provisioning/alert-rules", ALERT_RULE, ok=(201,))
            st["source_token"] = self.service_account_token(source, "grafana-backup")
            st["dashboards"] = dashboards_of(source)
            expect(len(st["dashboards"]) >= len(DASHBOARDS), f"source has {len(st['dashboards'])} dashboards")

        @self.step("target: empty but for the restore's service account", needs=["source_token"])
        def _():
            expect(target.get("/api/search") == [], f"target is not empty: {short(target.get('/api/search'))}")
            expect(target.get("/api/datasources") == [], "target has datasources")
            st["target_token"] = self.service_account_token(target, "grafana-backup")

        @self.step("grafana-backup save: every component, an archive with every object", needs=["source_token"])
        def _():
            output, took = self.tool(["save"], self.source_url, st["source_token"], "save.log")
            archives = glob.glob(os.path.join(self.work, "backup", "*.tar.gz"))
            expect(len(archives) == 1, f"archives written: {archives}")
            with tarfile.open(archives[0]) as tar:
                names = tar.getnames()
            by_kind = {}
            for name in names:
                kind = name.rsplit(".", 1)[-1] if "." in os.path.basename(name) else ""
                by_kind[kind] = by_kind.get(kind, 0) + 1
            want = {
                "folder": len(FOLDERS),
                "folder_permission": len(FOLDERS),
                "dashboard": len(st["dashboards"]),
                "datasource": len(source.get("/api/datasources")),
                "alert_rule": 1,
                "contact_point": 1,
                "user": len(USERS) + 1,
                "organization": 1,
            }
            got = {kind: by_kind.get(kind, 0) for kind in want}
            expect(got == want, f"archive holds {got}, expected {want}; all: {by_kind}")
            # What Pharos does not have answers as Grafana 11 does: empty lists, or 404 for the
            # legacy routes Grafana 11 removed; the tool notes those and goes on.
            failures = re.findall(r"^(?:get|query) ([\w ]+?) failed, status: (\d+)", output, re.M)
            failures += re.findall(r"^query (dashboard versions): \d+, status: (\d+)", output, re.M)
            refused = sorted({f"{what} {status}" for what, status in failures})
            st["archive"] = archives[0]
            st["save_took"] = took
            print(f"     saved {sum(want.values())} objects in {took:.1f} s "
                  f"({os.path.getsize(archives[0])} bytes); "
                  f"not saved (the tool's note and the HTTP status): {', '.join(refused) or 'none'}", flush=True)

        def restore(components, log_name):
            """Runs the tool's restore of `components`; returns {kind: count} of the objects it wrote."""
            output, took = self.tool(["restore", f"--components={components}", st["archive"]],
                                     self.target_url, st["target_token"], log_name)
            # Each object's line ends with the HTTP status the target answered.
            statuses = re.findall(
                r"^(create folder|create datasource|create dashboard|update folder permissions|"
                r"create alert rule|create contact_point)\b.*?status: (\d+)", output, re.M)
            counts, bad = {}, []
            for what, status in statuses:
                counts[what] = counts.get(what, 0) + 1
                if status not in ("200", "201", "202"):
                    bad.append(f"{what} -> {status}")
            users = dict(re.findall(r'^create user "([^"]*)" response status: (\d+)', output, re.M))
            if users:
                counts["create user"] = len(users)
            orgs = re.findall(r'^update org "[^"]*" response status: (\d+)', output, re.M)
            if orgs:
                counts["update org"] = len(orgs)
                bad += [f"update org -> {status}" for status in orgs if status != "200"]
            print(f"     restored {components} in {took:.1f} s: {counts}", flush=True)
            expect(not bad, f"the target refused: {bad}")
            st["restored_users"] = users
            return counts

        # Every component the tool has, less alert rules, which get a restore of their own: the
        # tool stops the whole restore where one component fails, and this keeps one failure apart.
        everything_but_rules = ("folders,datasources,library_elements,dashboards,alert_channels,organizations,"
                                "users,snapshots,annotations,teams,team_members,folder_permissions,contact_points")

        @self.step("grafana-backup restore: every component but alert rules", needs=["archive", "target_token"])
        def _():
            counts = restore(everything_but_rules, "restore.log")
            want = {"create folder": len(FOLDERS), "update folder permissions": len(FOLDERS),
                    "create dashboard": len(st["dashboards"]), "create contact_point": 1,
                    "create user": len(USERS) + 1, "update org": 1,
                    "create datasource": len(source.get("/api/datasources"))}
            expect(counts == want, f"objects restored: {counts}, expected {want}")
            # The admin exists on every server: Grafana and Pharos answer its create 412.
            want_users = {"admin": "412", **{u["login"]: "200" for u in USERS}}
            expect(st["restored_users"] == want_users, f"user creates: {st['restored_users']}, expected {want_users}")
            st["restored"] = True

        @self.step("grafana-backup restore: alert rules", needs=["restored"])
        def _():
            counts = restore("alert_rules", "restore-rules.log")
            expect(counts == {"create alert rule": 1}, f"objects restored: {counts}")
            st["rules_restored"] = True

        @self.step("folders equal (uid, title) and their permissions", needs=["restored"])
        def _():
            expect(folders_of(source) == folders_of(target),
                   f"source {folders_of(source)} != target {folders_of(target)}")
            def grants(api, uid):
                return sorted((i["role"], i["permission"]) for i in api.get(f"/api/folders/{uid}/permissions"))

            for uid, _ in FOLDERS:
                expect(grants(source, uid) == grants(target, uid),
                       f"permissions of {uid}: {grants(source, uid)} != {grants(target, uid)}")

        @self.step("dashboards equal (JSON without id and version, folder, tags)", needs=["restored"])
        def _():
            diff("dashboards", st["dashboards"], dashboards_of(target))
            source_tags = sorted(source.get("/api/dashboards/tags"), key=lambda t: t["term"])
            target_tags = sorted(target.get("/api/dashboards/tags"), key=lambda t: t["term"])
            expect(source_tags == target_tags, f"tags {source_tags} != {target_tags}")

        @self.step("datasources equal (the fields of the list the tool saves)", needs=["restored"])
        def _():
            diff("datasources", datasources_of(source), datasources_of(target))
            # The list the tool reads never holds secrets: the target has none, the source its own.
            prom_source = source.get("/api/datasources/uid/gb-prom")
            prom_target = target.get("/api/datasources/uid/gb-prom")
            expect(prom_source["secureJsonFields"] == {"basicAuthPassword": True}, short(prom_source))
            expect(prom_target["secureJsonFields"] == {}, short(prom_target))

        @self.step("org and users equal (login, email, name, server admin); restored users log in",
                   needs=["restored"])
        def _():
            expect(source.get("/api/orgs") == target.get("/api/orgs"),
                   f"orgs {source.get('/api/orgs')} != {target.get('/api/orgs')}")
            expect(users_of(source) == users_of(target), f"source {users_of(source)} != target {users_of(target)}")
            for user in USERS:
                me = Api(self.target_url, auth=(user["login"], RESTORED_PASSWORD)).get("/api/user")
                expect(me["login"] == user["login"], short(me))

        @self.step("alert rules equal (without updated, provenance, version)", needs=["rules_restored"])
        def _():
            diff("alert rules", rules_of(source), rules_of(target))

        @self.step("contact points equal", needs=["restored"])
        def _():
            diff("contact points", contact_points_of(source), contact_points_of(target))

        @self.step("the target serves the restored dashboards to a query", needs=["restored"])
        def _():
            got = target.get("/api/search?tag=linux")
            expect(sorted(h["uid"] for h in got) == ["gb-ops-disk", "gb-ops-nodes"], short(got))
            got = target.get("/api/search?folderUIDs=gb-apps")
            expect(len(got) == 3, short(got))

        @self.step("a second restore of the same archive changes nothing", needs=["restored"])
        def _():
            # Grafana answers the second create of a folder, datasource or contact point 409 (or
            # 400) and overwrites dashboards; so does Pharos: nothing is duplicated or lost.
            self.tool(["restore", f"--components={everything_but_rules}", st["archive"]],
                      self.target_url, st["target_token"], "restore-again.log")
            expect(folders_of(source) == folders_of(target), "folders differ after a second restore")
            diff("dashboards", st["dashboards"], dashboards_of(target))
            diff("datasources", datasources_of(source), datasources_of(target))
            diff("contact points", contact_points_of(source), contact_points_of(target))

        print(
            f"grafana-backup scenario ({self.label}): {self.passed} passed, {len(self.failed)} failed"
            + (f", {len(self.skipped)} skipped" if self.skipped else ""),
            flush=True,
        )
        return 0 if not self.failed and not self.skipped else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", help="the Pharos to back up, e.g. http://127.0.0.1:3000")
    parser.add_argument("target", help="the empty Pharos to restore into")
    parser.add_argument("--user", default="admin")
    parser.add_argument("--password", default="admin")
    parser.add_argument("--label", default="pharos", help="name printed in the summary line")
    args = parser.parse_args()
    return Scenario(args.source, args.target, args.user, args.password, args.label).run()


if __name__ == "__main__":
    sys.exit(main())
