"""``sqlite:///path``: one SQLite file in WAL mode, shared by every gunicorn worker.

Each write is one ``BEGIN IMMEDIATE`` transaction: SQLite's file lock makes
it atomic across processes, so id assignment, compare-and-set and the
idempotency records need no other coordination.  WAL keeps readers from
blocking the writer.  A commit is in the WAL file before the response is
sent, so killing every mockbin process (even with SIGKILL) loses no write
that was acknowledged; ``?synchronous=full`` also survives a power cut, at
the price of an fsync per write.

Totals (items, bytes, members per collection) are kept in small tables
updated in the same transaction as the write, so limits and
``X-Total-Count`` cost the same with a thousand items or a million.

Idempotency: a completed POST's record is stored in its item's ``record``
column (counted in ``totals.bytes``, deleted with the row); the
``idempotency`` table maps the key to ``@<path>`` of that item, or holds an
in-flight marker.  Files written by earlier versions get the column added
when opened.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from contextlib import contextmanager
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

from .base import Item, Limits, Receipt, Store, StoreFull, StoreUnavailable, child_of, parent_of

BUSY_TIMEOUT = 30.0  # seconds a writer waits for another worker's transaction
PURGE_INTERVAL = 60.0  # seconds between sweeps of expired idempotency records

SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    path TEXT PRIMARY KEY,
    parent TEXT NOT NULL,
    seq INTEGER NOT NULL,
    body BLOB NOT NULL,
    content_type TEXT NOT NULL,
    etag TEXT NOT NULL,
    modified REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS items_by_parent ON items (parent, seq);
CREATE TABLE IF NOT EXISTS collections (
    path TEXT PRIMARY KEY,
    last_id INTEGER NOT NULL DEFAULT 0,
    members INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS totals (
    id INTEGER PRIMARY KEY CHECK (id = 0),
    items INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    seq INTEGER NOT NULL
);
INSERT OR IGNORE INTO totals VALUES (0, 0, 0, 0);
CREATE TABLE IF NOT EXISTS idempotency (
    key TEXT PRIMARY KEY,
    record BLOB NOT NULL,
    expires REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS idempotency_by_expiry ON idempotency (expires);
"""
POINTER = b"@"  # an idempotency row that points at the item its POST created
COLUMNS = "path, body, content_type, etag, modified"


def file_problem(path: str) -> Optional[str]:
    """Why SQLite cannot open (or create) a database at *path*, in words; None if it may."""
    directory = os.path.dirname(path) or "."
    if os.path.isdir(path):
        return "that is a directory; give a file path inside it, like sqlite:///dir/store.db"
    if not os.path.isdir(directory):
        return f"the directory {directory} does not exist; create it first"
    if os.path.exists(path):
        if not os.access(path, os.R_OK | os.W_OK):
            return "permission denied: the file is not readable and writable by this user"
    elif not os.access(directory, os.W_OK | os.X_OK):
        return f"permission denied: this user cannot create files in {directory}"
    return None


def _item(row: Tuple[Any, ...]) -> Item:
    return Item(row[0], bytes(row[1]), row[2], row[3], row[4])


class SQLiteStore(Store):
    kind = "sqlite"

    def __init__(self, path: str, limits: Limits, synchronous: str = "normal") -> None:
        super().__init__(limits)
        self.path = os.path.abspath(path)
        self.synchronous = synchronous.upper()
        self._local = threading.local()
        self._pid = os.getpid()
        self._purged = 0.0
        problem = file_problem(self.path)
        if problem is not None:
            raise StoreUnavailable(f"SQLite store {self.path}: {problem}")
        with self._guard():
            conn = self._connect()
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.executescript(SCHEMA)
                columns = {row[1] for row in conn.execute("PRAGMA table_info(items)")}
                if "record" not in columns:  # a file from before records lived with their items
                    conn.execute("ALTER TABLE items ADD COLUMN record BLOB")
            finally:
                conn.close()

    def describe(self) -> str:
        return f"sqlite ({self.path})"

    # -- connections: one per thread, opened again after a fork -------------

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False)
        conn.execute(f"PRAGMA synchronous={self.synchronous}")
        return conn

    def _conn(self) -> sqlite3.Connection:
        if self._pid != os.getpid():  # forked (gunicorn worker): never share a connection
            self._local = threading.local()
            self._pid = os.getpid()
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect()
        return conn

    @contextmanager
    def _guard(self) -> Iterator[None]:
        """SQLite trouble (locked past the timeout, disk full, unreadable file) -> StoreUnavailable."""
        try:
            yield
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"SQLite store {self.path}: {exc}") from None

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._guard():
            conn = self._conn()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    def _read(self, sql: str, args: Tuple[Any, ...] = ()) -> List[Tuple[Any, ...]]:
        with self._guard():
            return self._conn().execute(sql, args).fetchall()

    # -- items ---------------------------------------------------------------

    def get(self, path: str) -> Optional[Item]:
        rows = self._read(f"SELECT {COLUMNS} FROM items WHERE path = ?", (path,))
        return _item(rows[0]) if rows else None

    def swap(self, path: str, expected: Optional[str], new: Optional[Item]) -> bool:
        with self._write() as conn:
            row = conn.execute(
                "SELECT etag, length(body), coalesce(length(record), 0) FROM items WHERE path = ?", (path,)
            ).fetchone()
            if (row[0] if row else None) != expected:
                return False
            self._apply(conn, path, row[1] if row else None, new, b"", row[2] if row else 0)
            return True

    def _apply(
        self,
        conn: sqlite3.Connection,
        path: str,
        old_size: Optional[int],
        new: Optional[Item],
        record: bytes = b"",
        old_record: int = 0,
    ) -> None:
        """One write inside a transaction; *old_size* None means the path was empty.

        *record* is the idempotency record of a new item; *old_record* the
        size of the record of the item deleted (a replacement keeps it).
        """
        items, size, seq = conn.execute("SELECT items, bytes, seq FROM totals").fetchone()
        parent = parent_of(path)
        if new is None:
            if old_size is None:
                return
            conn.execute("DELETE FROM items WHERE path = ?", (path,))
            conn.execute("UPDATE collections SET members = members - 1 WHERE path = ?", (parent,))
            conn.execute("UPDATE totals SET items = ?, bytes = ?", (items - 1, size - old_size - old_record))
            return
        if old_size is None:
            self.limits.check(items + 1, size + new.size + len(record))
            conn.execute(
                "INSERT INTO items (path, parent, seq, body, content_type, etag, modified, record) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (path, parent, seq + 1, new.body, new.content_type, new.etag, new.modified, record or None),
            )
            conn.execute(
                "INSERT INTO collections (path, members) VALUES (?, 1) "
                "ON CONFLICT (path) DO UPDATE SET members = members + 1",
                (parent,),
            )
            conn.execute(
                "UPDATE totals SET items = ?, bytes = ?, seq = ?",
                (items + 1, size + new.size + len(record), seq + 1),
            )
            return
        self.limits.check(items, size - old_size + new.size)
        conn.execute(
            "UPDATE items SET body = ?, content_type = ?, etag = ?, modified = ? WHERE path = ?",
            (new.body, new.content_type, new.etag, new.modified, path),
        )
        conn.execute("UPDATE totals SET bytes = ?", (size - old_size + new.size,))

    def append(
        self, collection: str, build: Callable[[str], Item], receipt: Optional[Receipt] = None
    ) -> Item:
        with self._write() as conn:
            (items,) = conn.execute("SELECT items FROM totals").fetchone()
            if items + 1 > self.limits.max_items:
                raise StoreFull("store_max_items", self.limits.max_items)
            row = conn.execute("SELECT last_id FROM collections WHERE path = ?", (collection,)).fetchone()
            number = row[0] if row else 0
            while True:
                number += 1
                taken = conn.execute(
                    "SELECT 1 FROM items WHERE path = ?", (child_of(collection, str(number)),)
                )
                if taken.fetchone() is None:
                    break
            item = build(str(number))
            record = receipt.record(item) if receipt is not None else b""
            self._apply(conn, item.path, None, item, record)
            conn.execute(
                "INSERT INTO collections (path, last_id) VALUES (?, ?) "
                "ON CONFLICT (path) DO UPDATE SET last_id = excluded.last_id",
                (collection, number),
            )
            if receipt is not None:
                pointer = POINTER + item.path.encode("utf-8", "surrogateescape")
                conn.execute(
                    "INSERT OR REPLACE INTO idempotency VALUES (?, ?, ?)",
                    (receipt.key, pointer, time.time() + receipt.ttl),
                )
            return item

    def members(self, collection: str, offset: int, limit: int) -> Tuple[int, List[Item]]:
        with self._guard():
            conn = self._conn()
            conn.execute("BEGIN")  # one snapshot for the count and the page
            try:
                row = conn.execute("SELECT members FROM collections WHERE path = ?", (collection,)).fetchone()
                rows = conn.execute(
                    f"SELECT {COLUMNS} FROM items WHERE parent = ? ORDER BY seq LIMIT ? OFFSET ?",
                    (collection, limit, offset),
                ).fetchall()
            finally:
                if conn.in_transaction:
                    conn.execute("COMMIT")
        return (row[0] if row else 0), [_item(r) for r in rows]

    def last_id(self, collection: str) -> Optional[int]:
        rows = self._read("SELECT last_id FROM collections WHERE path = ? AND last_id > 0", (collection,))
        return rows[0][0] if rows else None

    # -- idempotency records -------------------------------------------------

    def claim(self, key: str, marker: bytes, lease: float) -> Optional[bytes]:
        now = time.time()
        with self._write() as conn:
            if now - self._purged > PURGE_INTERVAL:
                self._purged = now
                conn.execute("DELETE FROM idempotency WHERE expires <= ?", (now,))
            row = conn.execute(
                "SELECT record FROM idempotency WHERE key = ? AND expires > ?", (key, now)
            ).fetchone()
            if row is not None:
                found = bytes(row[0])
                if not found.startswith(POINTER):
                    return found  # in flight (or a record written by an earlier version)
                item = conn.execute(
                    "SELECT record FROM items WHERE path = ?",
                    (found[len(POINTER) :].decode("utf-8", "surrogateescape"),),
                ).fetchone()
                if item is not None and item[0] is not None:
                    return bytes(item[0])
                # The item it created is gone, and its record with it: a new request.
            conn.execute("INSERT OR REPLACE INTO idempotency VALUES (?, ?, ?)", (key, marker, now + lease))
            return None

    def release(self, key: str, marker: bytes) -> None:
        with self._write() as conn:
            conn.execute("DELETE FROM idempotency WHERE key = ? AND record = ?", (key, marker))

    # -- whole store -----------------------------------------------------------

    def dump(self) -> Tuple[List[Item], Dict[str, int]]:
        items = [_item(row) for row in self._read(f"SELECT {COLUMNS} FROM items ORDER BY seq")]
        counters = dict(self._read("SELECT path, last_id FROM collections WHERE last_id > 0"))
        return items, counters

    def load(self, items: List[Item], counters: Dict[str, int]) -> None:
        self.check_load(items)
        with self._write() as conn:
            self._wipe(conn)
            rows = [
                (i.path, parent_of(i.path), n, i.body, i.content_type, i.etag, i.modified)
                for n, i in enumerate(items, 1)
            ]
            conn.executemany(
                "INSERT OR REPLACE INTO items (path, parent, seq, body, content_type, etag, modified) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            conn.execute(
                "INSERT INTO collections (path, members) SELECT parent, count(*) FROM items GROUP BY parent"
            )
            conn.executemany(
                "INSERT INTO collections (path, last_id) VALUES (?, ?) "
                "ON CONFLICT (path) DO UPDATE SET last_id = excluded.last_id",
                list(counters.items()),
            )
            conn.execute(
                "UPDATE totals SET items = (SELECT count(*) FROM items), "
                "bytes = (SELECT coalesce(sum(length(body)), 0) FROM items), seq = ?",
                (len(rows),),
            )

    def clear(self) -> None:
        with self._write() as conn:
            self._wipe(conn)

    @staticmethod
    def _wipe(conn: sqlite3.Connection) -> None:
        for table in ("items", "collections", "idempotency"):
            conn.execute(f"DELETE FROM {table}")
        conn.execute("UPDATE totals SET items = 0, bytes = 0, seq = 0")

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
