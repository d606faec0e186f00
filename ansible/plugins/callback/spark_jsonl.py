# -*- coding: utf-8 -*-
"""Writes one JSON object per line for every task result and the final stats, for configure-hosts.

The file is named by the SPARK_ANSIBLE_EVENTS environment variable. Results of tasks with no_log are
censored by Ansible before they reach a callback; this plugin keeps only short fields (message, diff, the
return code and the end of stdout/stderr), never the whole result.
"""
from __future__ import annotations

import difflib
import json
import os

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
    name: spark_jsonl
    type: notification
    short_description: JSON lines of task results and stats for configure-hosts
    description:
      - Appends one JSON object per task result, and the play recap, to the file in SPARK_ANSIBLE_EVENTS.
    requirements:
      - SPARK_ANSIBLE_EVENTS set to a writable path
"""

LIMIT = 4000


def _short(value):
    if value is None:
        return None
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= LIMIT else text[:LIMIT] + "\n…"


def _diff_text(diff):
    """Ansible's diff entries ({before, after, before_header, after_header} or {prepared}) as unified-ish text."""
    entries = diff if isinstance(diff, list) else [diff]
    parts = []
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        if entry.get("prepared"):
            parts.append(str(entry["prepared"]))
            continue
        before, after = entry.get("before"), entry.get("after")
        if before is None and after is None:
            continue
        before_header = str(entry.get("before_header") or "before")
        after_header = str(entry.get("after_header") or "after")
        # A template's "after" is a temporary file on the controller: name the destination instead.
        if "/.ansible/tmp/" in after_header or after_header.startswith("/tmp/"):
            after_header = before_header if before_header != "before" else "after"
        lines = difflib.unified_diff(
            str(before or "").splitlines(),
            str(after or "").splitlines(),
            fromfile=before_header,
            tofile=after_header,
            lineterm="",
        )
        parts.append("\n".join(lines))
    return _short("\n".join(p for p in parts if p)) or None


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "notification"
    CALLBACK_NAME = "spark_jsonl"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self._path = os.environ.get("SPARK_ANSIBLE_EVENTS")

    def _write(self, event):
        if not self._path:
            return
        with open(self._path, "a", encoding="utf-8") as out:
            out.write(json.dumps(event, default=str) + "\n")

    def _result(self, status, result):
        task = result._task
        data = result._result or {}
        role = getattr(task, "_role", None)
        event = {
            "event": "result",
            "status": status,
            "host": result._host.get_name(),
            "task": task.get_name(),
            "action": task.action,
            "role": role.get_name() if role else None,
            "changed": bool(data.get("changed", False)),
            "msg": _short(data.get("msg")),
            "rc": data.get("rc"),
            "stderr": _short(data.get("stderr")),
            "diff": _diff_text(data.get("diff")) if data.get("diff") else None,
            "no_log": bool(data.get("_ansible_no_log", False)),
            "path": task.get_path(),
        }
        self._write(event)

    def v2_playbook_on_start(self, playbook):
        self._write({"event": "start", "playbook": playbook._file_name})

    def v2_runner_on_ok(self, result):
        self._result("ok", result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._result("ignored" if ignore_errors else "failed", result)

    def v2_runner_on_skipped(self, result):
        self._result("skipped", result)

    def v2_runner_on_unreachable(self, result):
        self._result("unreachable", result)

    def v2_playbook_on_stats(self, stats):
        hosts = {}
        for host in sorted(stats.processed.keys()):
            summary = stats.summarize(host)
            hosts[host] = {
                "ok": summary.get("ok", 0),
                "changed": summary.get("changed", 0),
                "failed": summary.get("failures", 0),
                "unreachable": summary.get("unreachable", 0),
                "skipped": summary.get("skipped", 0),
                "rescued": summary.get("rescued", 0),
                "ignored": summary.get("ignored", 0),
            }
        self._write({"event": "stats", "hosts": hosts})
