"""Reference sync client: mirrors one branch's data into a local SQLite file and keeps it current.

Uses only the public API (API.md) and the standard library:

    python examples/sync_client.py --url https://branchwork.example.org --token KEY --db mirror.sqlite
    python examples/sync_client.py ... --watch 30        # then every 30 seconds, until interrupted

How it works: the first run asks `/api/v1/sync/changes/` without a cursor and receives a snapshot of
every record the token may see; it then follows `next_cursor` until `has_more` is false and stores the
last cursor beside the data, in the same SQLite transaction, so a crash never loses or skips a page.
Later runs continue from the stored cursor. Changes are applied by version: an upsert replaces the row
unless the row already holds a newer version; `delete` (a tombstone: ids are never reused) removes the
row for good; `remove` (the record left the token's scope) removes it until it comes back. On 410 the
cursor is too old: the mirror is emptied and rebuilt from a new snapshot. 429 waits `Retry-After`.
"""

import argparse
import json
import sqlite3
import time
import urllib.error
import urllib.parse
import urllib.request

SCHEMA = """
CREATE TABLE IF NOT EXISTS record (
    type TEXT NOT NULL, id TEXT NOT NULL, version INTEGER NOT NULL, data TEXT NOT NULL,
    PRIMARY KEY (type, id)
);
CREATE TABLE IF NOT EXISTS tombstone (type TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY (type, id));
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class ResyncRequired(Exception):
    pass


class SyncClient:
    def __init__(self, base_url: str, token: str, db_path: str, *, types: str = "", page_size: int = 500):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.types = types
        self.page_size = page_size
        self.db = sqlite3.connect(db_path)
        self.db.executescript(SCHEMA)

    # --- HTTP -------------------------------------------------------------------------------
    def _get(self, path: str, params: dict) -> dict:
        url = f"{self.base_url}{path}?{urllib.parse.urlencode({k: v for k, v in params.items() if v})}"
        request = urllib.request.Request(
            url, headers={"Authorization": f"Token {self.token}", "Accept": "application/json"}
        )
        for _attempt in range(10):
            try:
                with urllib.request.urlopen(request, timeout=60) as response:
                    return json.loads(response.read().decode("utf-8"))
            except urllib.error.HTTPError as exc:
                if exc.code == 429:
                    time.sleep(float(exc.headers.get("Retry-After", "1")))
                    continue
                if exc.code == 410:
                    raise ResyncRequired from exc
                raise
        raise RuntimeError("throttled too often")

    # --- state ------------------------------------------------------------------------------
    def cursor(self) -> str | None:
        row = self.db.execute("SELECT value FROM state WHERE key = 'cursor'").fetchone()
        return row[0] if row else None

    def _apply(self, change: dict) -> None:
        kind, pk, op = change["type"], change["id"], change["op"]
        if op == "upsert":
            if self.db.execute("SELECT 1 FROM tombstone WHERE type = ? AND id = ?", (kind, pk)).fetchone():
                return
            self.db.execute(
                "INSERT INTO record (type, id, version, data) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (type, id) DO UPDATE SET version = excluded.version, data = excluded.data "
                "WHERE excluded.version >= record.version",
                (kind, pk, change["version"], json.dumps(change["data"], sort_keys=True)),
            )
        else:
            self.db.execute("DELETE FROM record WHERE type = ? AND id = ?", (kind, pk))
            if op == "delete":
                self.db.execute("INSERT OR IGNORE INTO tombstone (type, id) VALUES (?, ?)", (kind, pk))

    # --- sync -------------------------------------------------------------------------------
    def sync_once(self) -> int:
        """Follow the feed until it has nothing more; returns the number of changes applied."""
        applied = 0
        try:
            applied += self._follow()
        except ResyncRequired:
            with self.db:
                self.db.execute("DELETE FROM record")
                self.db.execute("DELETE FROM state")
            applied += self._follow()
        return applied

    def _follow(self) -> int:
        applied = 0
        while True:
            page = self._get(
                "/api/v1/sync/changes/", {"cursor": self.cursor(), "types": self.types, "limit": self.page_size}
            )
            with self.db:  # the page and the cursor that follows it commit together
                for change in page["results"]:
                    self._apply(change)
                self.db.execute(
                    "INSERT INTO state (key, value) VALUES ('cursor', ?) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (page["next_cursor"],),
                )
            applied += len(page["results"])
            if not page["has_more"]:
                return applied

    def records(self) -> dict[tuple[str, str], dict]:
        return {(t, i): json.loads(d) for t, i, d in self.db.execute("SELECT type, id, data FROM record")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="Base URL of the portal, e.g. https://branchwork.example.org")
    parser.add_argument("--token", required=True, help="API token (manage.py issue_token or the tokens page)")
    parser.add_argument("--db", default="mirror.sqlite", help="SQLite file of the mirror")
    parser.add_argument("--types", default="", help="Only these types, e.g. member,activity")
    parser.add_argument("--watch", type=float, default=0, help="Then sync again every N seconds")
    args = parser.parse_args()
    client = SyncClient(args.url, args.token, args.db, types=args.types)
    while True:
        applied = client.sync_once()
        print(f"{time.strftime('%H:%M:%S')} applied {applied} changes; {len(client.records())} records mirrored")
        if not args.watch:
            return
        time.sleep(args.watch)


if __name__ == "__main__":
    main()
