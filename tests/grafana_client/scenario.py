#!/usr/bin/env python3
"""Drives a running Pharos with the PyPI client `grafana-client`, as a Grafana user's script would.

Usage: scenario.py URL [--user admin] [--password admin] [--label NAME]

Every step prints one line (ok / FAIL / SKIP). A step that fails does not stop the run: later steps
that need what it should have made are skipped. The process exits 1 if any step failed or was
skipped, 0 otherwise. Checks are explicit (`expect`), never `assert`, so `python -O` cannot remove
them. Where the client's own call fails against Pharos but Grafana would accept it, the step records
the failure and, where it can, carries on another way so the rest of the scenario still runs.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
import uuid

from grafana_client import GrafanaApi
from grafana_client.client import (
    GrafanaClientError,
    GrafanaException,
    GrafanaUnauthorizedError,
)


class StepFailed(Exception):
    pass


def expect(condition, message):
    """Fails the current step with `message` unless `condition` holds."""
    if not condition:
        raise StepFailed(message)


def short(value, limit=300):
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class RequestLog:
    """Remembers the last request a client sent, so a failure names the exact call."""

    def __init__(self):
        self.last = None

    def hook(self, response, *args, **kwargs):
        request = response.request
        body = request.body
        if isinstance(body, bytes):
            body = body.decode("utf-8", "replace")
        self.last = {
            "method": request.method,
            "url": request.url,
            "request_body": body,
            "status": response.status_code,
            "response_body": response.text,
        }
        return response

    def attach(self, api: GrafanaApi):
        api.client.s.hooks.setdefault("response", []).append(self.hook)
        return api

    def describe(self):
        if not self.last:
            return "no request sent"
        r = self.last
        text = f"last request: {r['method']} {r['url']}"
        if r["request_body"]:
            text += f" body={short(r['request_body'], 200)}"
        return text + f" -> HTTP {r['status']} {short(r['response_body'] or '', 300)}"


def expect_http_error(status, call, *args, **kwargs):
    """Runs `call`, which must fail with HTTP `status`; returns the client's exception."""
    try:
        result = call(*args, **kwargs)
    except GrafanaException as error:
        expect(
            error.status_code == status,
            f"expected HTTP {status}, got HTTP {error.status_code}: {short(error.response)}",
        )
        return error
    raise StepFailed(f"expected HTTP {status}, got success: {short(result)}")


def versions_list(answer):
    """Grafana 11 answers a list; Grafana 12 wraps it as {"versions": [...], "continueToken": ...}."""
    if isinstance(answer, dict) and "versions" in answer:
        answer = answer["versions"]
    expect(isinstance(answer, list), f"versions answer is not a list: {short(answer)}")
    return answer


class Scenario:
    def __init__(self, url, user, password, label):
        self.url = url.rstrip("/")
        self.label = label
        self.log = RequestLog()
        self.api = self.log.attach(GrafanaApi.from_url(self.url, credential=(user, password)))
        self.user = user
        self.password = password
        self.sfx = uuid.uuid4().hex[:10]
        self.state = {}
        self.passed = 0
        self.failed = []
        self.skipped = []
        self.problems = []

    def soft_fail(self, message):
        """Records a failure in the current step but lets the step go on."""
        self.problems.append(f"{message} [{self.log.describe()}]")

    def step(self, name, needs=()):
        def decorate(fn):
            missing = [key for key in needs if key not in self.state]
            if missing:
                self.skipped.append(name)
                print(f"[SKIP] {name}: needs {', '.join(missing)} from a failed step", flush=True)
                return fn
            self.problems = []
            started = time.monotonic()
            try:
                detail = fn()
            except StepFailed as error:
                self.problems.append(f"{error} [{self.log.describe()}]")
                detail = None
            except GrafanaException as error:
                self.problems.append(
                    f"unexpected HTTP {error.status_code}: {short(error.response)} [{self.log.describe()}]"
                )
                detail = None
            except Exception as error:  # a bug in the scenario or the client: still a failure
                self.problems.append(f"{type(error).__name__}: {error} [{self.log.describe()}]")
                traceback.print_exc()
                detail = None
            ms = (time.monotonic() - started) * 1000
            if self.problems:
                self.failed.append(name)
                print(f"[FAIL] {name} ({ms:.0f} ms)", flush=True)
                for problem in self.problems:
                    print(f"       {problem}", flush=True)
            else:
                self.passed += 1
                print(f"[ok]   {name} ({ms:.0f} ms){': ' + detail if detail else ''}", flush=True)
            return fn

        return decorate

    def run(self):
        api = self.api
        st = self.state
        sfx = self.sfx

        @self.step("health: GET /api/health says database ok and a version")
        def _():
            health = api.client.GET("/health")
            expect(health.get("database") == "ok", f"database is not ok: {short(health)}")
            version = health.get("version")
            expect(isinstance(version, str) and version, f"no version: {short(health)}")
            st["health_version"] = version
            return f"version {version}"

        @self.step("version: api.version (buildInfo from GET /api/frontend/settings)", needs=["health_version"])
        def _():
            version = api.version
            expect(
                isinstance(version, str) and version,
                f"api.version gave {version!r}",
            )
            expect(
                version == st["health_version"].split("-")[0],
                f"api.version {version!r} disagrees with /api/health's {st['health_version']!r}",
            )
            major = api.get_version().major
            expect(major >= 9, f"reported Grafana major version {major} is older than the API Pharos speaks")
            return f"api.version {version}"

        @self.step("auth: basic auth identifies the admin; a wrong password gets 401")
        def _():
            me = api.user.get_actual_user()
            expect(me.get("login") == self.user, f"/api/user login is {me.get('login')!r}")
            expect(me.get("isGrafanaAdmin") is True, f"admin is not a server admin: {short(me)}")
            bad = self.log.attach(GrafanaApi.from_url(self.url, credential=(self.user, "wrong-" + sfx)))
            try:
                bad.user.get_actual_user()
            except GrafanaUnauthorizedError:
                pass
            else:
                raise StepFailed("a wrong password was accepted")
            return f"user id {me.get('id')}"

        @self.step("folder: create, get, list")
        def _():
            title = f"Scenario folder {sfx}"
            folder = api.folder.create_folder(title)
            uid = folder.get("uid")
            expect(isinstance(uid, str) and uid, f"created folder has no uid: {short(folder)}")
            expect(folder.get("title") == title, f"created folder title is {folder.get('title')!r}")
            got = api.folder.get_folder(uid)
            expect(got.get("uid") == uid and got.get("title") == title, f"get_folder gave {short(got)}")
            listed = api.folder.get_all_folders()
            expect(
                any(f.get("uid") == uid for f in listed),
                f"get_all_folders does not list {uid}: {short(listed)}",
            )
            st["folder_uid"] = uid
            st["folder_title"] = title
            return f"uid {uid}"

        @self.step("dashboard: create in the folder", needs=["folder_uid"])
        def _():
            dashboard = {
                "title": f"Scenario dashboard {sfx}",
                "tags": ["pharos-scenario", f"t-{sfx}"],
                "timezone": "browser",
                "schemaVersion": 39,
                "time": {"from": "now-6h", "to": "now"},
                "refresh": "30s",
                "templating": {"list": []},
                "panels": [
                    {
                        "id": 1,
                        "type": "timeseries",
                        "title": "Up",
                        "gridPos": {"h": 8, "w": 12, "x": 0, "y": 0},
                        "targets": [{"refId": "A", "expr": "up"}],
                        "fieldConfig": {"defaults": {"unit": "short"}, "overrides": []},
                        "options": {"legend": {"showLegend": True}},
                    }
                ],
                "pharosScenarioUnknownField": {"kept": [1, 2, 3], "nested": {"x": None}},
            }
            answer = api.dashboard.update_dashboard(
                {
                    "dashboard": dashboard,
                    "folderUid": st["folder_uid"],
                    "overwrite": False,
                    "message": "created by the scenario",
                }
            )
            uid = answer.get("uid")
            expect(answer.get("status") == "success", f"status is not success: {short(answer)}")
            expect(isinstance(uid, str) and 0 < len(uid) <= 40, f"bad generated uid: {short(answer)}")
            expect(answer.get("version") == 1, f"a new dashboard's version is not 1: {short(answer)}")
            expect(isinstance(answer.get("id"), int), f"no numeric id: {short(answer)}")
            expect(uid in (answer.get("url") or ""), f"url does not carry the uid: {short(answer)}")
            st["dashboard"] = dashboard
            st["uid"] = uid
            st["id"] = answer["id"]

            # A second dashboard, in General, that every filtered search below must leave out.
            other = api.dashboard.update_dashboard(
                {
                    "dashboard": {"title": f"Other board {sfx}", "tags": [f"other-{sfx}"]},
                    "overwrite": False,
                }
            )
            expect(other.get("status") == "success", f"second dashboard not created: {short(other)}")
            expect(other.get("uid") != uid, "two dashboards got the same uid")
            st["other_uid"] = other["uid"]
            return f"uid {uid}, id {answer['id']}"

        @self.step("dashboard: same title in the same folder gets 412 name-exists", needs=["uid"])
        def _():
            error = expect_http_error(
                412,
                api.dashboard.update_dashboard,
                {
                    "dashboard": {"title": st["dashboard"]["title"]},
                    "folderUid": st["folder_uid"],
                    "overwrite": False,
                },
            )
            body = error.response if isinstance(error.response, dict) else {}
            expect(body.get("status") == "name-exists", f"412 body is {short(error.response)}")

        @self.step("search: by query", needs=["uid", "other_uid"])
        def _():
            # Grafana matches the title case-insensitively and by substring.
            hits = api.search.search_dashboards(query=f"scenario DASHBOARD {sfx}")
            uids = [h.get("uid") for h in hits]
            expect(uids == [st["uid"]], f"query search gave {short(hits)}")
            hit = hits[0]
            expect(hit.get("type") == "dash-db", f"hit type is {hit.get('type')!r}")
            expect(hit.get("title") == st["dashboard"]["title"], f"hit title is {hit.get('title')!r}")
            expect(
                sorted(hit.get("tags") or []) == sorted(st["dashboard"]["tags"]),
                f"hit tags are {hit.get('tags')!r}",
            )
            expect(hit.get("folderUid") == st["folder_uid"], f"hit folderUid is {hit.get('folderUid')!r}")
            expect(
                hit.get("folderTitle") == st["folder_title"],
                f"hit folderTitle is {hit.get('folderTitle')!r}",
            )
            expect(st["uid"] in (hit.get("url") or ""), f"hit url is {hit.get('url')!r}")
            none = api.search.search_dashboards(query=f"no such title {sfx}")
            expect(none == [], f"a query matching nothing gave {short(none)}")
            return f"{len(hits)} hit"

        @self.step("search: by tag (one tag, and several tags meaning all of them)", needs=["uid", "other_uid"])
        def _():
            hits = api.search.search_dashboards(tag=f"t-{sfx}")
            expect([h.get("uid") for h in hits] == [st["uid"]], f"tag search gave {short(hits)}")
            both = api.search.search_dashboards(tag=["pharos-scenario", f"t-{sfx}"])
            expect([h.get("uid") for h in both] == [st["uid"]], f"two-tag search gave {short(both)}")
            mixed = api.search.search_dashboards(tag=["pharos-scenario", f"other-{sfx}"])
            expect(mixed == [], f"tags no dashboard has together matched {short(mixed)}")
            other = api.search.search_dashboards(tag=f"other-{sfx}")
            expect([h.get("uid") for h in other] == [st["other_uid"]], f"other-tag search gave {short(other)}")
            tags = api.dashboard.get_dashboards_tags()
            terms = {t.get("term"): t.get("count") for t in tags}
            expect(terms.get(f"t-{sfx}") == 1, f"/api/dashboards/tags gave {short(tags)}")

        @self.step("search: by folder, and the folder itself by type", needs=["uid", "other_uid"])
        def _():
            hits = api.search.search_dashboards(folder_uids=[st["folder_uid"]], type_="dash-db")
            expect([h.get("uid") for h in hits] == [st["uid"]], f"folder search gave {short(hits)}")
            folders = api.search.search_dashboards(query=st["folder_title"], type_="dash-folder")
            expect(
                [(h.get("uid"), h.get("type")) for h in folders] == [(st["folder_uid"], "dash-folder")],
                f"folder-type search gave {short(folders)}",
            )

        @self.step("dashboard: get by uid keeps every field", needs=["uid"])
        def _():
            got = api.dashboard.get_dashboard(st["uid"])
            dash, meta = got.get("dashboard") or {}, got.get("meta") or {}
            sent = st["dashboard"]
            for key, value in sent.items():
                expect(dash.get(key) == value, f"field {key!r} came back as {short(dash.get(key))}, sent {short(value)}")
            expect(dash.get("uid") == st["uid"], f"dashboard.uid is {dash.get('uid')!r}")
            expect(dash.get("id") == st["id"], f"dashboard.id is {dash.get('id')!r}, created as {st['id']}")
            expect(dash.get("version") == 1, f"dashboard.version is {dash.get('version')!r}")
            expect(meta.get("folderUid") == st["folder_uid"], f"meta.folderUid is {meta.get('folderUid')!r}")
            expect(meta.get("folderTitle") == st["folder_title"], f"meta.folderTitle is {meta.get('folderTitle')!r}")
            expect(meta.get("isStarred") is False, f"meta.isStarred is {meta.get('isStarred')!r}")
            expect(meta.get("canSave") is True, f"meta.canSave is {meta.get('canSave')!r} for the admin")
            expect(meta.get("version") == 1, f"meta.version is {meta.get('version')!r}")
            expect(st["uid"] in (meta.get("url") or ""), f"meta.url is {meta.get('url')!r}")
            st["current"] = dash

        @self.step("dashboard: update with the right version", needs=["current"])
        def _():
            dash = dict(st["current"])
            dash["panels"] = dash["panels"] + [
                {"id": 2, "type": "stat", "title": "Second", "gridPos": {"h": 4, "w": 6, "x": 12, "y": 0}}
            ]
            answer = api.dashboard.update_dashboard(
                {"dashboard": dash, "folderUid": st["folder_uid"], "overwrite": False, "message": "second panel"}
            )
            expect(answer.get("version") == 2, f"version after update is not 2: {short(answer)}")
            expect(answer.get("uid") == st["uid"], f"uid changed: {short(answer)}")
            expect(answer.get("id") == st["id"], f"id changed: {short(answer)}")
            got = api.dashboard.get_dashboard(st["uid"])["dashboard"]
            expect(len(got.get("panels") or []) == 2, f"stored panels: {short(got.get('panels'))}")
            expect(got.get("version") == 2, f"stored version is {got.get('version')!r}")
            st["updated"] = True

        @self.step("dashboard: a stale version gets 412 version-mismatch and changes nothing", needs=["updated"])
        def _():
            stale = dict(st["current"])  # still version 1
            stale["title"] = f"Stale write {sfx}"
            error = expect_http_error(
                412,
                api.dashboard.update_dashboard,
                {"dashboard": stale, "folderUid": st["folder_uid"], "overwrite": False},
            )
            body = error.response if isinstance(error.response, dict) else {}
            expect(body.get("status") == "version-mismatch", f"412 body is {short(error.response)}")
            expect(isinstance(body.get("message"), str) and body["message"], f"412 body has no message: {short(body)}")
            got = api.dashboard.get_dashboard(st["uid"])["dashboard"]
            expect(got.get("version") == 2, f"a rejected write changed the version to {got.get('version')!r}")
            expect(got.get("title") == st["dashboard"]["title"], f"a rejected write changed the title to {got.get('title')!r}")

        @self.step("dashboard: overwrite=True replaces it despite the stale version", needs=["updated"])
        def _():
            stale = dict(st["current"])  # version 1, one panel
            stale["title"] = f"Scenario dashboard {sfx} overwritten"
            answer = api.dashboard.update_dashboard(
                {"dashboard": stale, "folderUid": st["folder_uid"], "overwrite": True, "message": "overwrite"}
            )
            expect(answer.get("status") == "success", f"overwrite failed: {short(answer)}")
            expect(answer.get("version") == 3, f"version after overwrite is not 3: {short(answer)}")
            expect(answer.get("uid") == st["uid"], f"overwrite changed the uid: {short(answer)}")
            got = api.dashboard.get_dashboard(st["uid"])["dashboard"]
            expect(got.get("title") == stale["title"], f"title after overwrite is {got.get('title')!r}")
            expect(len(got.get("panels") or []) == 1, f"panels after overwrite: {short(got.get('panels'))}")
            st["title"] = stale["title"]

        @self.step("versions: list by uid, and fetch one", needs=["title"])
        def _():
            versions = versions_list(api.dashboard_versions.get_dashboard_versions_by_uid(st["uid"]))
            numbers = [v.get("version") for v in versions]
            expect(numbers == [3, 2, 1], f"versions (newest first) are {numbers}: {short(versions)}")
            messages = {v.get("version"): v.get("message") for v in versions}
            expect(messages.get(1) == "created by the scenario", f"version 1 message is {messages.get(1)!r}")
            expect(messages.get(2) == "second panel", f"version 2 message is {messages.get(2)!r}")
            expect(all(v.get("created") for v in versions), f"a version has no created time: {short(versions)}")
            first = api.dashboard_versions.get_dashboard_version_by_uid(st["uid"], version_id=1)
            expect(first.get("version") == 1, f"version 1 answer: {short(first)}")
            data = first.get("data") or {}
            expect(data.get("title") == st["dashboard"]["title"], f"version 1 data title is {data.get('title')!r}")
            return f"versions {numbers}"

        @self.step("star: star the dashboard, see it starred", needs=["uid"])
        def _():
            api.user.star_dashboard(st["uid"])
            meta = api.dashboard.get_dashboard(st["uid"])["meta"]
            expect(meta.get("isStarred") is True, f"meta.isStarred after starring is {meta.get('isStarred')!r}")
            starred = api.search.search_dashboards(starred=True)
            expect([h.get("uid") for h in starred] == [st["uid"]], f"starred search gave {short(starred)}")
            expect(starred[0].get("isStarred") is True, f"starred hit: {short(starred[0])}")

        @self.step("datasource: create a TestData datasource, read it by uid, name and id, list it")
        def _():
            wanted = {
                "name": f"scenario-ds-{sfx}",
                "uid": f"ds-{sfx}",
                "type": "grafana-testdata-datasource",
                "access": "proxy",
                "jsonData": {"note": "first"},
                "secureJsonData": {"token": "do-not-echo"},
            }
            created = api.datasource.create_datasource(wanted)
            expect(created.get("message") == "Datasource added", f"create answer: {short(created)}")
            ds_id = created.get("id")
            expect(isinstance(ds_id, int), f"no numeric id: {short(created)}")
            by_uid = api.datasource.get_datasource_by_uid(wanted["uid"])
            expect(by_uid.get("name") == wanted["name"], f"by uid: {short(by_uid)}")
            expect(by_uid.get("secureJsonFields") == {"token": True}, f"secureJsonFields: {short(by_uid)}")
            expect("do-not-echo" not in json.dumps(by_uid), "the secret came back")
            by_name = api.datasource.get_datasource_by_name(wanted["name"])
            expect(by_name.get("uid") == wanted["uid"], f"by name: {short(by_name)}")
            by_id = api.datasource.get_datasource_by_id(ds_id)
            expect(by_id.get("uid") == wanted["uid"], f"by id: {short(by_id)}")
            id_answer = api.datasource.get_datasource_id_by_name(wanted["name"])
            expect(id_answer == {"id": ds_id}, f"id by name: {short(id_answer)}")
            listed = api.datasource.list_datasources()
            expect(wanted["uid"] in [d.get("uid") for d in listed], f"list: {short(listed)}")
            st["ds_uid"] = wanted["uid"]
            st["ds"] = by_uid
            return f"datasource {ds_id}"

        @self.step("datasource: update keeps the secret, health says OK", needs=["ds_uid"])
        def _():
            changed = dict(st["ds"], jsonData={"note": "second"})
            answer = api.datasource.update_datasource_by_uid(st["ds_uid"], changed)
            expect(answer.get("message") == "Datasource updated", f"update answer: {short(answer)}")
            got = api.datasource.get_datasource_by_uid(st["ds_uid"])
            expect(got.get("jsonData") == {"note": "second"}, f"jsonData after update: {short(got)}")
            expect(got.get("secureJsonFields") == {"token": True}, f"secret lost on update: {short(got)}")
            health = api.datasource.health(st["ds_uid"])
            expect(health.get("status") == "OK", f"health: {short(health)}")

        @self.step("query: POST /api/ds/query against the TestData datasource", needs=["ds_uid"])
        def _():
            request = {
                "from": "now-1h",
                "to": "now",
                "queries": [
                    {
                        "refId": "A",
                        "datasource": {"type": "grafana-testdata-datasource", "uid": st["ds_uid"]},
                        "scenarioId": "csv_metric_values",
                        "stringInput": "1,2,3",
                    }
                ],
            }
            answer = api.client.POST("/ds/query", json=request)
            result = answer.get("results", {}).get("A", {})
            expect(result.get("status") == 200, f"result: {short(answer)}")
            values = result["frames"][0]["data"]["values"]
            expect(values[1] == [1, 2, 3], f"values: {short(values)}")

        @self.step("datasource: delete by uid, then it is gone (404)", needs=["ds_uid"])
        def _():
            answer = api.datasource.delete_datasource_by_uid(st["ds_uid"])
            expect(answer.get("message") == "Data source deleted", f"delete answer: {short(answer)}")
            expect_http_error(404, api.datasource.get_datasource_by_uid, st["ds_uid"])

        @self.step("service account: create one (Viewer) and a token")
        def _():
            wanted = {"name": f"scenario-{sfx}", "role": "Viewer"}
            try:
                account = api.serviceaccount.create(wanted)
            except GrafanaClientError as error:
                # grafana-client posts to /api/serviceaccounts/ (trailing slash), which Grafana accepts.
                self.soft_fail(f"api.serviceaccount.create failed with HTTP {error.status_code}")
                account = api.client.POST("/serviceaccounts", json=wanted)
            sa_id = account.get("id")
            expect(isinstance(sa_id, int), f"no numeric id: {short(account)}")
            expect(account.get("name") == wanted["name"], f"name is {account.get('name')!r}")
            expect(account.get("role") == "Viewer", f"role is {account.get('role')!r}")
            token = api.serviceaccount.create_token(sa_id, {"name": f"scenario-token-{sfx}"})
            key = token.get("key")
            expect(isinstance(key, str) and key.startswith("glsa_"), f"token key does not start glsa_: {short(token)}")
            expect(token.get("name") == f"scenario-token-{sfx}", f"token name: {short(token)}")
            listed = api.serviceaccount.get_tokens(sa_id)
            expect(
                [t.get("name") for t in listed] == [f"scenario-token-{sfx}"],
                f"get_tokens gave {short(listed)}",
            )
            expect(all(key not in json.dumps(t) for t in listed), "get_tokens shows the secret key again")
            st["sa_id"] = sa_id
            st["token"] = key
            return f"service account {sa_id}"

        @self.step("token auth: a second client with the token reads, cannot write", needs=["token", "title"])
        def _():
            tapi = self.log.attach(GrafanaApi.from_url(self.url, credential=st["token"]))
            got = tapi.dashboard.get_dashboard(st["uid"])
            expect(got["dashboard"].get("title") == st["title"], f"token client read {short(got)}")
            hits = tapi.search.search_dashboards(query=sfx, type_="dash-db")
            expect(st["uid"] in [h.get("uid") for h in hits], f"token client search gave {short(hits)}")
            expect_http_error(
                403,
                tapi.dashboard.update_dashboard,
                {"dashboard": {"title": f"Viewer write {sfx}"}, "overwrite": False},
            )
            bogus = self.log.attach(GrafanaApi.from_url(self.url, credential="glsa_" + "x" * 32 + "_deadbeef"))
            try:
                bogus.dashboard.get_dashboard(st["uid"])
            except GrafanaUnauthorizedError:
                pass
            else:
                raise StepFailed("a made-up token was accepted")

        @self.step("delete: the dashboard, then it is gone (404)", needs=["uid"])
        def _():
            answer = api.dashboard.delete_dashboard(st["uid"])
            expect(isinstance(answer, dict) and answer.get("message"), f"delete answer: {short(answer)}")
            expect_http_error(404, api.dashboard.get_dashboard, st["uid"])
            hits = api.search.search_dashboards(query=sfx, type_="dash-db")
            expect(st["uid"] not in [h.get("uid") for h in hits], f"deleted dashboard still found: {short(hits)}")
            expect_http_error(404, api.dashboard.delete_dashboard, st["uid"])

        @self.step("delete: the folder, then it is gone (404)", needs=["folder_uid"])
        def _():
            api.folder.delete_folder(st["folder_uid"])
            expect_http_error(404, api.folder.get_folder, st["folder_uid"])
            listed = api.folder.get_all_folders()
            expect(
                st["folder_uid"] not in [f.get("uid") for f in listed],
                f"deleted folder still listed: {short(listed)}",
            )
            if "other_uid" in st:
                other = api.dashboard.get_dashboard(st["other_uid"])
                expect(other["dashboard"].get("uid") == st["other_uid"], "a dashboard outside the folder went too")

        @self.step("service account: deleting it revokes its token", needs=["sa_id", "token"])
        def _():
            api.serviceaccount.delete(st["sa_id"])
            tapi = self.log.attach(GrafanaApi.from_url(self.url, credential=st["token"]))
            try:
                tapi.search.search_dashboards(query=sfx)
            except GrafanaUnauthorizedError:
                pass
            else:
                raise StepFailed("the token of a deleted service account still works")

        failed = len(self.failed) + len(self.skipped)
        print(
            f"grafana-client scenario ({self.label}): {self.passed} passed, {len(self.failed)} failed"
            + (f", {len(self.skipped)} skipped" if self.skipped else ""),
            flush=True,
        )
        return 0 if failed == 0 else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="Pharos base URL, e.g. http://127.0.0.1:3000")
    parser.add_argument("--user", default="admin")
    parser.add_argument("--password", default="admin")
    parser.add_argument("--label", default="pharos", help="name printed in the summary line")
    args = parser.parse_args()
    return Scenario(args.url, args.user, args.password, args.label).run()


if __name__ == "__main__":
    sys.exit(main())
