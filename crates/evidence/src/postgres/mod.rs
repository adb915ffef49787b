//! The evidence log in PostgreSQL, for a team: many writers on many hosts,
//! one log. The records, the tree and the checkpoints are the bytes of the
//! file log (computed by the library, never by the database), so the log
//! exports to a file that verifies offline.
//!
//! - `records` keeps each record's exact bytes (`bytea`), leaf index and
//!   leaf hash; `checkpoints` one signed checkpoint per append with the
//!   tree's frontier; `meta` the evidence key the log belongs to. The
//!   schema (`schema.sql`) is created once by [`init`], as the owner role.
//! - An append is one transaction under an advisory lock: read the latest
//!   checkpoint and its frontier (the frontier's root must be the signed
//!   root), insert the record and the next checkpoint, commit. It costs
//!   O(log n), and the leaf index and tree size are primary keys, so even a
//!   writer that skipped the lock could not fork the tree. It takes two
//!   round trips (the lock is held across one and a half): `BEGIN`, the
//!   lock and the read in one message; the inserts, `COMMIT` and the flush
//!   barrier below in the other, every value in it a number or a hex
//!   literal. Any error ends the transaction (`ROLLBACK`, or the connection
//!   is given up), so nothing half-done is ever committed.
//! - Group commit: the append transaction commits asynchronously (it holds
//!   the lock only for its own work, not for a disk flush), and the writer
//!   then waits for a flush that covers it (a transactional WAL message,
//!   committed as the session's `synchronous_commit` says) before it
//!   returns. Writers waiting for the disk at once share one flush. The
//!   write-ahead log is one sequence: a record built on another one is
//!   never durable without it. A role that may not write that message
//!   (`pg_logical_emit_message`) commits each append synchronously instead.
//! - A writer killed at any instant leaves no partial record (the
//!   transaction). A connection lost mid-append (a server restart) is
//!   retried on a new connection for a while; the retry first looks for its
//!   own record, in case the commit went through before the connection
//!   dropped, so it is never appended twice.
//! - Reading is one repeatable-read, read-only transaction: the latest
//!   checkpoint and the records in order, fetched a batch at a time.

mod password;
mod tls;
mod uri;

pub use uri::{ConnectSpec, Host, PgEnv, SslMode, redact};

use super::FileLog;
use super::merkle::{Frontier, Hash, leaf_hash};
use super::note::{Checkpoint, sign_checkpoint};
use super::origin::{key_origin, new_origin, open_log_checkpoint, owned_by};
use super::store::{EvidenceStore, MAX_RECORD, ScanItem, Sealer, check_line, next_binding};
use super::verify::{VerifyOptions, verify_store};
use crate::{Error, Result};
use ed25519_dalek::VerifyingKey;
use postgres::error::SqlState;
use postgres::{Client, IsolationLevel, NoTls, SimpleQueryMessage};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The schema `init` creates (version 1), then [`SCHEMA_V2_SQL`].
pub const SCHEMA_SQL: &str = include_str!("schema.sql");
/// What version 2 adds to version 1: the cosigned checkpoints kept.
pub const SCHEMA_V2_SQL: &str = include_str!("schema-v2.sql");
/// The schema's version, kept in `meta` (an upgrade adds a row).
const SCHEMA_VERSION: i32 = 2;
/// The advisory lock that serialises appends (any constant: a database
/// holds one log).
const APPEND_LOCK: i64 = 0x6d6f_6465_6c73_6561;
/// Commits a transactional WAL message in a transaction of its own, so the
/// commit waits (as the session's `synchronous_commit` says) until the
/// write-ahead log is flushed past it, and so past every append committed
/// before it.
const FLUSH_BARRIER: &str = "SELECT pg_logical_emit_message(true, 'modelseal', 'append')";
/// The statements of an append, prepared once per connection with SQL
/// `PREPARE` (session state, not DDL), so that the simple-query messages of
/// an append run them without parsing and planning them each time.
/// `modelseal_head` reads the log's head under the lock: the key the log
/// belongs to, the last leaf index, and the latest checkpoint with its
/// frontier (as hex, so that the server's `bytea_output` does not matter).
/// `modelseal_insert` adds a record and its checkpoint. A failed earlier
/// attempt may have left some of them prepared: they are all dropped first.
const PREPARE_APPEND: &str = "DEALLOCATE ALL; \
    PREPARE modelseal_head AS \
    SELECT (SELECT key_origin FROM modelseal_evidence.meta LIMIT 1), \
        (SELECT max(leaf_index) FROM modelseal_evidence.records), \
        c.tree_size, c.note, encode(c.frontier, 'hex') \
    FROM (SELECT 1) AS one LEFT JOIN LATERAL \
        (SELECT tree_size, note, frontier FROM modelseal_evidence.checkpoints \
         ORDER BY tree_size DESC LIMIT 1) AS c ON true; \
    PREPARE modelseal_insert (bigint, bytea, bytea, bigint, text, bytea) AS \
    WITH record AS (INSERT INTO modelseal_evidence.records (leaf_index, record, leaf_hash) \
                    VALUES ($1, $2, $3)) \
    INSERT INTO modelseal_evidence.checkpoints (tree_size, note, frontier) VALUES ($4, $5, $6);";
/// Prepares [`FLUSH_BARRIER`] as `modelseal_barrier`, for a writer that
/// may run it.
const PREPARE_BARRIER: &str =
    "PREPARE modelseal_barrier AS SELECT pg_logical_emit_message(true, 'modelseal', 'append')";
/// How long an append keeps retrying after losing its connection.
const RETRY_FOR: Duration = Duration::from_secs(60);
/// Records fetched per round trip when reading.
const FETCH_ROWS: i32 = 2000;

/// A log in a PostgreSQL database.
pub struct PgStore {
    spec: ConnectSpec,
    client: Mutex<Option<Client>>,
    /// Whether appends commit asynchronously and then wait for
    /// [`FLUSH_BARRIER`]; decided at the first append (`None` before).
    group_commit: Mutex<Option<bool>>,
    /// The checkpoint note this store signed or checked last, opened: the
    /// same bytes read again need no second signature check.
    last_head: Mutex<Option<(String, Checkpoint)>>,
    /// The log's origin and frontier after this store's last append.
    last_point: Mutex<Option<(String, Frontier)>>,
    /// Whether the current connection has [`PREPARE_APPEND`] done (false
    /// again on every new connection).
    prepared: AtomicBool,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PgStore({})", self.spec)
    }
}

fn describe(e: &postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return format!("{}: {}", db.severity(), db.message());
    }
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let more = s.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = s.source();
    }
    text
}

fn pg_error(spec: &ConnectSpec, e: &postgres::Error) -> Error {
    if e.code() == Some(&SqlState::UNDEFINED_TABLE)
        || e.code() == Some(&SqlState::INVALID_SCHEMA_NAME)
    {
        return Error::Evidence(format!(
            "{spec}: no modelseal evidence log in this database (an administrator creates it once with `modelseal evidence init`)"
        ));
    }
    Error::Evidence(format!("{spec}: {}", describe(e)))
}

/// Whether an error is the connection or the server going away (or a
/// conflict), after which the append is tried again.
fn transient(e: &postgres::Error) -> bool {
    match e.code() {
        Some(code) => {
            let c = code.code();
            c.starts_with("08")
                || c.starts_with("57P")
                || *code == SqlState::T_R_SERIALIZATION_FAILURE
                || *code == SqlState::T_R_DEADLOCK_DETECTED
                || *code == SqlState::UNIQUE_VIOLATION
        }
        // No SQLSTATE: the socket, not the server, failed.
        None => true,
    }
}

/// How long connecting keeps trying while the server is restarting
/// (refusing connections, starting up or shutting down).
const CONNECT_RETRY_FOR: Duration = Duration::from_secs(15);

/// Connects as `spec` says, trying again for a while when the server is
/// not there or not ready (a restart).
fn connect_client(spec: &ConnectSpec) -> Result<Client> {
    let deadline = Instant::now() + CONNECT_RETRY_FOR;
    let mut pause = Duration::from_millis(100);
    loop {
        match connect_once(spec) {
            Ok(client) => return Ok(client),
            Err(Failed::Transient(_)) if Instant::now() + pause < deadline => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_secs(1));
            }
            Err(Failed::Transient(e) | Failed::Final(e)) => return Err(e),
        }
    }
}

/// One connection attempt (password from the URI, PGPASSWORD or the
/// password file; TLS as `sslmode` says).
fn connect_once(spec: &ConnectSpec) -> std::result::Result<Client, Failed> {
    let mut config = postgres::Config::new();
    match &spec.host {
        Host::Tcp(host) => config.host(host),
        Host::Socket(dir) => config.host_path(dir),
    };
    config
        .port(spec.port)
        .user(&spec.user)
        .dbname(&spec.dbname)
        .connect_timeout(spec.connect_timeout)
        .application_name(spec.application_name.as_deref().unwrap_or("modelseal"));
    if let Some(password) = password::password(spec).map_err(Failed::Final)? {
        config.password(password.as_bytes());
    }
    let connected = match tls::client_config(spec).map_err(Failed::Final)? {
        None => {
            config.ssl_mode(postgres::config::SslMode::Disable);
            config.connect(NoTls)
        }
        Some(tls) => {
            // Required: a server that does not speak TLS is an error.
            config.ssl_mode(postgres::config::SslMode::Require);
            config.connect(tokio_postgres_rustls::MakeRustlsConnect::new(tls))
        }
    };
    connected.map_err(|e| {
        // Refused, reset, or the server starting up or shutting down.
        let restarting = match e.code() {
            Some(code) => code.code().starts_with("57P") || code.code().starts_with("08"),
            None => {
                std::error::Error::source(&e)
                    .and_then(|s| s.downcast_ref::<std::io::Error>())
                    .is_some_and(|io| {
                        matches!(
                            io.kind(),
                            std::io::ErrorKind::ConnectionRefused
                                | std::io::ErrorKind::ConnectionReset
                                | std::io::ErrorKind::ConnectionAborted
                                | std::io::ErrorKind::UnexpectedEof
                        )
                    })
                    || e.is_closed()
            }
        };
        let text = format!("{spec}: cannot connect: {}", describe(&e));
        // A server that is not there or not ready may be back later; a
        // refused password, a missing database or a certificate that does
        // not verify will not change by waiting.
        let unreachable = std::error::Error::source(&e)
            .and_then(|s| s.downcast_ref::<std::io::Error>())
            .is_some_and(|io| {
                matches!(
                    io.kind(),
                    std::io::ErrorKind::TimedOut
                        | std::io::ErrorKind::HostUnreachable
                        | std::io::ErrorKind::NetworkUnreachable
                )
            })
            || e.to_string().contains("timed out");
        let error = if restarting || unreachable {
            Error::Unavailable(format!("evidence: {text}"))
        } else {
            Error::Evidence(text)
        };
        if restarting {
            Failed::Transient(error)
        } else {
            Failed::Final(error)
        }
    })
}

/// Why one append attempt ended.
enum Failed {
    /// Try again on a new connection.
    Transient(Error),
    /// Give up.
    Final(Error),
}

impl PgStore {
    /// Connects to the log at `spec`.
    pub fn connect(spec: &ConnectSpec) -> Result<Self> {
        let client = connect_client(spec)?;
        Ok(PgStore {
            spec: spec.clone(),
            client: Mutex::new(Some(client)),
            group_commit: Mutex::new(None),
            last_head: Mutex::new(None),
            last_point: Mutex::new(None),
            prepared: AtomicBool::new(false),
        })
    }

    fn failed(&self, e: &postgres::Error) -> Failed {
        let error = pg_error(&self.spec, e);
        if transient(e) {
            // Should the retries run out, the caller may try again later.
            Failed::Transient(match error {
                Error::Evidence(m) => Error::Unavailable(format!("evidence: {m}")),
                other => other,
            })
        } else {
            Failed::Final(error)
        }
    }

    /// Runs `f` on a live connection (connecting again if the last one was
    /// lost).
    fn with_client<T>(
        &self,
        f: impl FnOnce(&mut Client) -> std::result::Result<T, Failed>,
    ) -> std::result::Result<T, Failed> {
        let mut guard = self.client.lock().map_err(|_| {
            Failed::Final(Error::Evidence("the connection lock is poisoned".into()))
        })?;
        if guard.as_ref().is_none_or(Client::is_closed) {
            *guard = None;
            *guard = Some(connect_client(&self.spec).map_err(Failed::Transient)?);
            self.prepared.store(false, Ordering::SeqCst);
        }
        let client = guard.as_mut().expect("connected above");
        let result = f(client);
        match &result {
            // Start the next attempt on a fresh connection.
            Err(Failed::Transient(_)) => *guard = None,
            // A failed statement leaves its transaction aborted, and a
            // refusal may leave it open: end it, or give up the connection.
            Err(Failed::Final(_)) if client.batch_execute("ROLLBACK").is_err() => *guard = None,
            _ => {}
        }
        result
    }

    /// One append attempt, in two round trips: `BEGIN`, the lock and the
    /// log's head in one; the record, the checkpoint, `COMMIT` (and the
    /// flush barrier) in the other. `seen` is set to the index and leaf
    /// hash of the line this attempt sealed, so that a retry can look for
    /// its own record. On an error the transaction may still be open: the
    /// caller ends it.
    fn try_append(
        &self,
        client: &mut Client,
        seals: &mut [Sealer<'_>],
        key: &dyn crate::SealKey,
        seen: &mut Option<(u64, Hash)>,
    ) -> std::result::Result<Checkpoint, Failed> {
        let vk = key.verifying_key();
        let fail = |why: String| Failed::Final(Error::Evidence(format!("{}: {why}", self.spec)));
        let tampered = |problem: String| {
            Failed::Final(Error::Tampered {
                log: self.spec.to_string(),
                problem,
            })
        };
        let group_commit = self.group_commit(client)?;
        // Commit without waiting for the disk when a flush barrier follows.
        let asynchronous = if group_commit {
            "SET LOCAL synchronous_commit = off; "
        } else {
            ""
        };
        if !self.prepared.load(Ordering::SeqCst) {
            let barrier = if group_commit { PREPARE_BARRIER } else { "" };
            client
                .batch_execute(&format!("{PREPARE_APPEND}; {barrier}"))
                .map_err(|e| self.failed(&e))?;
            self.prepared.store(true, Ordering::SeqCst);
        }
        let messages = client
            .simple_query(&format!(
                "BEGIN; {asynchronous}SELECT pg_advisory_xact_lock({APPEND_LOCK}); EXECUTE modelseal_head"
            ))
            .map_err(|e| self.failed(&e))?;
        let head = Head::from_messages(&messages).map_err(|why| fail(why.into()))?;
        if let Some((from, leaf)) = *seen
            && let Some(cp) = self.committed(client, &leaf, from, &vk)?
        {
            // Found committed, but perhaps not yet flushed.
            client
                .batch_execute("COMMIT")
                .map_err(|e| self.failed(&e))?;
            self.flush(client)?;
            return Ok(cp);
        }
        if !head.owner.as_deref().is_some_and(|o| owned_by(o, &vk)) {
            return Err(fail(format!(
                "this database keeps the log of another evidence key ({}), not {}",
                head.owner.as_deref().unwrap_or("none recorded"),
                key_origin(&vk)
            )));
        }
        let (origin, mut frontier) = match &head.note {
            None if head.last.is_none() => {
                (new_origin(&vk).map_err(Failed::Final)?, Frontier::new())
            }
            None => return Err(tampered("has records but no checkpoint".into())),
            Some(note) => {
                let cp = self.open_head(note, &vk).map_err(|e| {
                    tampered(format!("has a latest checkpoint that does not verify: {e}"))
                })?;
                let frontier = frontier_from(cp.size, &head.frontier)
                    .filter(|f| f.root() == cp.root && Some(f.size()) == head.size)
                    .ok_or_else(|| {
                        tampered(
                            "keeps a frontier that does not match its signed checkpoint".into(),
                        )
                    })?;
                let expected_last = cp.size.checked_sub(1);
                if head.last != expected_last {
                    return Err(tampered(format!(
                        "has records that end at leaf {} but a checkpoint that covers {}",
                        head.last.map_or("none".to_string(), |l| l.to_string()),
                        cp.size
                    )));
                }
                (cp.origin, frontier)
            }
        };
        // One record, or a batch of them in the same transaction (each
        // naming the checkpoint it follows, as a file log's batch does).
        let batch = (seals.len() > 1).then_some(frontier.size());
        let mut lines = Vec::with_capacity(seals.len());
        for seal in seals.iter_mut() {
            let index = frontier.size();
            let mut binding = next_binding(&origin, &frontier);
            binding.batch = batch;
            let line = seal(&binding).map_err(Failed::Final)?;
            check_line(&line).map_err(Failed::Final)?;
            let leaf = leaf_hash(line.as_bytes());
            frontier.push(leaf);
            lines.push((index, line, leaf));
        }
        let Some((index, line, leaf)) = lines.pop() else {
            return Err(fail("an empty batch".into()));
        };
        *seen = Some((index, leaf));
        // The records before the last, as hex literals (see below).
        let earlier = if lines.is_empty() {
            String::new()
        } else {
            let values: Vec<String> = lines
                .iter()
                .map(|(i, l, h)| {
                    format!(
                        "({i}, decode('{}', 'hex'), decode('{}', 'hex'))",
                        hex::encode(l.as_bytes()),
                        hex::encode(h)
                    )
                })
                .collect();
            format!(
                "INSERT INTO modelseal_evidence.records (leaf_index, record, leaf_hash) VALUES {}; ",
                values.join(", ")
            )
        };
        let cp = Checkpoint {
            origin: origin.clone(),
            size: frontier.size(),
            root: frontier.root(),
        };
        let note = sign_checkpoint(&cp, &origin, key).map_err(Failed::Final)?;
        // Every value is a decimal number or a hex literal (nothing but
        // [0-9a-f] between the quotes), decoded by the server: no text of
        // the record or the note reaches the statement as SQL. After
        // `COMMIT` (which releases the lock), the flush barrier runs in a
        // transaction of its own, committed as the session says.
        let barrier = if group_commit {
            "EXECUTE modelseal_barrier"
        } else {
            ""
        };
        client
            .batch_execute(&format!(
                "{earlier}EXECUTE modelseal_insert ({index}, decode('{record}', 'hex'), decode('{leaf}', 'hex'), \
                     {size}, convert_from(decode('{note}', 'hex'), 'UTF8'), decode('{frontier}', 'hex')); \
                 COMMIT; {barrier}",
                record = hex::encode(line.as_bytes()),
                leaf = hex::encode(leaf),
                size = cp.size,
                note = hex::encode(note.as_bytes()),
                frontier = hex::encode(frontier.hashes().concat()),
            ))
            .map_err(|e| self.failed(&e))?;
        self.remember_head(note, &cp);
        if let Ok(mut last) = self.last_point.lock() {
            *last = Some((origin, frontier));
        }
        Ok(cp)
    }

    /// Opens the latest checkpoint read from the database: its signature
    /// is checked unless these exact bytes are the ones this store signed
    /// or checked last.
    fn open_head(
        &self,
        note: &str,
        key: &VerifyingKey,
    ) -> std::result::Result<Checkpoint, crate::CheckpointError> {
        if let Ok(last) = self.last_head.lock()
            && let Some((known, cp)) = last.as_ref()
            && known == note
        {
            return Ok(cp.clone());
        }
        let cp = open_log_checkpoint(note, key)?;
        self.remember_head(note.to_string(), &cp);
        Ok(cp)
    }

    fn remember_head(&self, note: String, cp: &Checkpoint) {
        if let Ok(mut last) = self.last_head.lock() {
            *last = Some((note, cp.clone()));
        }
    }

    /// Whether the writer may commit asynchronously, that is whether it may
    /// run [`FLUSH_BARRIER`] (asked once per store).
    fn group_commit(&self, client: &mut Client) -> std::result::Result<bool, Failed> {
        let mut known = self
            .group_commit
            .lock()
            .map_err(|_| Failed::Final(Error::Evidence("the store's lock is poisoned".into())))?;
        if let Some(known) = *known {
            return Ok(known);
        }
        let row = client
            .query_one(
                "SELECT has_function_privilege('pg_logical_emit_message(boolean, text, text)', 'EXECUTE')",
                &[],
            )
            .map_err(|e| self.failed(&e))?;
        let may: bool = row.get(0);
        *known = Some(may);
        Ok(may)
    }

    /// Waits until every append committed so far on this connection is on
    /// disk (a no-op wait when appends commit synchronously).
    fn flush(&self, client: &mut Client) -> std::result::Result<(), Failed> {
        if self.group_commit(client)? {
            client
                .batch_execute(FLUSH_BARRIER)
                .map_err(|e| self.failed(&e))?;
        }
        Ok(())
    }

    /// After a lost connection: the checkpoint that took in our record, if
    /// the earlier attempt's commit went through.
    fn committed(
        &self,
        client: &mut Client,
        leaf: &Hash,
        from: u64,
        key: &VerifyingKey,
    ) -> std::result::Result<Option<Checkpoint>, Failed> {
        let row = client
            .query_opt(
                "SELECT c.note FROM modelseal_evidence.records r \
                 JOIN modelseal_evidence.checkpoints c ON c.tree_size = r.leaf_index + 1 \
                 WHERE r.leaf_hash = $1 AND r.leaf_index = $2",
                &[&leaf.as_slice(), &(from as i64)],
            )
            .map_err(|e| self.failed(&e))?;
        let Some(row) = row else { return Ok(None) };
        let note: String = row.get(0);
        open_log_checkpoint(&note, key)
            .map(Some)
            .map_err(|e| Failed::Final(Error::Evidence(format!("{}: {e}", self.spec))))
    }

    /// Moves the file log at `file` into this (empty) database log with the
    /// same records, root and checkpoint, in one transaction. The file log
    /// must verify with `key` and hold no interrupted append.
    pub fn import(&self, file: &FileLog, key: &VerifyingKey) -> Result<Checkpoint> {
        let check = verify_store(file, key, VerifyOptions::default())?;
        if let Some(problem) = check.problems.first() {
            return Err(Error::Evidence(format!(
                "{} does not verify ({problem}); nothing imported",
                file.path().display()
            )));
        }
        if let Some(repair) = check.repairs.first() {
            return Err(Error::Evidence(format!(
                "{}: {repair}; append to it once before importing",
                file.path().display()
            )));
        }
        let (Some(cp), Some(note)) = (check.checkpoint, check.checkpoint_note) else {
            return Err(Error::Evidence(format!(
                "{} has no checkpoint",
                file.path().display()
            )));
        };
        let spec = &self.spec;
        let result = self.with_client(|client| {
            let err = |e: postgres::Error| Failed::Final(pg_error(spec, &e));
            let mut tx = client.transaction().map_err(err)?;
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&APPEND_LOCK])
                .map_err(err)?;
            let row = tx
                .query_one(
                    "SELECT (SELECT key_origin FROM modelseal_evidence.meta LIMIT 1), \
                            EXISTS (SELECT 1 FROM modelseal_evidence.records), \
                            EXISTS (SELECT 1 FROM modelseal_evidence.checkpoints)",
                    &[],
                )
                .map_err(err)?;
            let owner: Option<String> = row.get(0);
            if !owner.as_deref().is_some_and(|o| owned_by(o, key)) {
                return Err(Failed::Final(Error::Evidence(format!(
                    "{spec}: this database keeps the log of another evidence key ({})",
                    owner.as_deref().unwrap_or("none recorded")
                ))));
            }
            if row.get::<_, bool>(1) || row.get::<_, bool>(2) {
                return Err(Failed::Final(Error::Evidence(format!(
                    "{spec}: the database log is not empty; an import only starts a log"
                ))));
            }
            let mut frontier = Frontier::new();
            let mut batch = Batch::default();
            file.scan(&mut |item| {
                if let ScanItem::Record { bytes, .. } = item {
                    if frontier.size() >= cp.size {
                        return Err(Error::Evidence("the file log grew while imported".into()));
                    }
                    let leaf = leaf_hash(bytes);
                    batch.push(frontier.size(), bytes, &leaf);
                    frontier.push(leaf);
                    if batch.index.len() >= 1000 {
                        batch.insert(&mut tx, spec)?;
                    }
                }
                Ok(())
            })
            .map_err(Failed::Final)?;
            batch.insert(&mut tx, spec).map_err(Failed::Final)?;
            if frontier.size() != cp.size || frontier.root() != cp.root {
                return Err(Failed::Final(Error::Evidence(format!(
                    "{} changed while imported; nothing imported",
                    file.path().display()
                ))));
            }
            tx.execute(
                "INSERT INTO modelseal_evidence.checkpoints (tree_size, note, frontier) VALUES ($1, $2, $3)",
                &[&(cp.size as i64), &note, &frontier.hashes().concat()],
            )
            .map_err(err)?;
            tx.commit().map_err(err)?;
            Ok(())
        });
        match result {
            Ok(()) => Ok(cp),
            Err(Failed::Final(e) | Failed::Transient(e)) => Err(e),
        }
    }
}

/// The log's head as `modelseal_head` returns it (in text form).
struct Head {
    owner: Option<String>,
    last: Option<u64>,
    size: Option<u64>,
    note: Option<String>,
    frontier: Vec<u8>,
}

impl Head {
    /// The head from the replies to `BEGIN; [SET LOCAL ...;] SELECT
    /// pg_advisory_xact_lock(...); EXECUTE modelseal_head`: its row is the last one.
    fn from_messages(messages: &[SimpleQueryMessage]) -> std::result::Result<Head, &'static str> {
        let unreadable = "the log's head is unreadable; refusing to append";
        let row = messages
            .iter()
            .rev()
            .find_map(|m| match m {
                SimpleQueryMessage::Row(row) => Some(row),
                _ => None,
            })
            .filter(|row| row.len() == 5)
            .ok_or(unreadable)?;
        let number = |i: usize| -> std::result::Result<Option<u64>, &'static str> {
            row.get(i)
                .map(|text| text.parse::<u64>().map_err(|_| unreadable))
                .transpose()
        };
        Ok(Head {
            owner: row.get(0).map(str::to_string),
            last: number(1)?,
            size: number(2)?,
            note: row.get(3).map(str::to_string),
            frontier: hex::decode(row.get(4).unwrap_or_default()).map_err(|_| unreadable)?,
        })
    }
}

/// Records waiting to be inserted by an import.
#[derive(Default)]
struct Batch {
    index: Vec<i64>,
    record: Vec<Vec<u8>>,
    leaf_hash: Vec<Vec<u8>>,
}

impl Batch {
    fn push(&mut self, index: u64, bytes: &[u8], leaf: &Hash) {
        self.index.push(index as i64);
        self.record.push(bytes.to_vec());
        self.leaf_hash.push(leaf.to_vec());
    }

    fn insert(&mut self, tx: &mut postgres::Transaction<'_>, spec: &ConnectSpec) -> Result<()> {
        if self.index.is_empty() {
            return Ok(());
        }
        tx.execute(
            "INSERT INTO modelseal_evidence.records (leaf_index, record, leaf_hash) \
             SELECT * FROM unnest($1::bigint[], $2::bytea[], $3::bytea[])",
            &[&self.index, &self.record, &self.leaf_hash],
        )
        .map_err(|e| pg_error(spec, &e))?;
        *self = Batch::default();
        Ok(())
    }
}

fn frontier_from(size: u64, bytes: &[u8]) -> Option<Frontier> {
    if !bytes.len().is_multiple_of(32) {
        return None;
    }
    let hashes = bytes
        .chunks_exact(32)
        .map(|c| <Hash>::try_from(c).expect("32 bytes"))
        .collect();
    Frontier::from_parts(size, hashes)
}

impl EvidenceStore for PgStore {
    fn location(&self) -> String {
        self.spec.to_string()
    }

    fn append(&self, seal: Sealer<'_>, key: &dyn crate::SealKey) -> Result<Checkpoint> {
        self.append_batch(&mut [seal], key)
    }

    fn append_batch(
        &self,
        seals: &mut [Sealer<'_>],
        key: &dyn crate::SealKey,
    ) -> Result<Checkpoint> {
        crate::store::check_batch(seals.len())?;
        let deadline = Instant::now() + RETRY_FOR;
        let mut seen = None;
        let mut pause = Duration::from_millis(50);
        loop {
            match self.with_client(|client| self.try_append(client, &mut *seals, key, &mut seen)) {
                Ok(cp) => return Ok(cp),
                Err(Failed::Transient(e)) if Instant::now() + pause < deadline => {
                    let _ = e;
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_secs(2));
                }
                Err(Failed::Transient(e) | Failed::Final(e)) => return Err(e),
            }
        }
    }

    fn scan(&self, visit: &mut dyn FnMut(ScanItem<'_>) -> Result<()>) -> Result<()> {
        self.scan_at(0, visit)
    }

    fn index_name(&self) -> String {
        // The server and the database, whatever the URI's spelling (scheme,
        // default port, parameters, role, password).
        let host = match &self.spec.host {
            uri::Host::Tcp(name) => format!("tcp {}", name.to_ascii_lowercase()),
            uri::Host::Socket(dir) => format!("socket {}", dir.display()),
        };
        format!(
            "postgres {host} port {} database {}",
            self.spec.port, self.spec.dbname
        )
    }

    fn resume_point(&self) -> Option<crate::ResumePoint> {
        let last = self.last_point.lock().ok()?;
        last.as_ref().map(|(origin, frontier)| crate::ResumePoint {
            origin: origin.clone(),
            frontier: frontier.clone(),
            offset: 0,
        })
    }

    fn scan_from(
        &self,
        from: &crate::ResumePoint,
        visit: &mut dyn FnMut(ScanItem<'_>) -> Result<()>,
    ) -> Result<crate::Resumed> {
        let Ok(first) = i64::try_from(from.frontier.size()) else {
            return Ok(crate::Resumed::Unsupported);
        };
        self.scan_at(first, visit)?;
        Ok(crate::Resumed::Read)
    }
    fn keep_cosigned(&self, kept: &crate::KeptCosigned) -> Result<()> {
        let spec = &self.spec;
        let size = i64::try_from(kept.size)
            .map_err(|_| Error::Evidence("a cosigned checkpoint's size is out of range".into()))?;
        let at = i64::try_from(kept.witnessed_at)
            .map_err(|_| Error::Evidence("a cosigned checkpoint's time is out of range".into()))?;
        let result = self.with_client(|client| {
            client
                .execute(
                    "INSERT INTO modelseal_evidence.cosigned (tree_size, witnessed_at, note, stamp) \
                     VALUES ($1, $2, $3, $4)",
                    &[&size, &at, &kept.note, &kept.stamp],
                )
                .map_err(|e| Failed::Final(cosigned_error(spec, &e)))
        });
        match result {
            Ok(_) => Ok(()),
            Err(Failed::Final(e) | Failed::Transient(e)) => Err(e),
        }
    }

    fn latest_cosigned(&self) -> Result<Option<crate::KeptCosigned>> {
        Ok(self
            .read_cosigned(
                "SELECT tree_size, witnessed_at, note, stamp, position \
                 FROM modelseal_evidence.cosigned ORDER BY tree_size DESC, position DESC LIMIT 1",
                &[],
            )?
            .into_iter()
            .next()
            .map(|(kept, _)| kept))
    }

    fn cosigned(&self, visit: &mut dyn FnMut(crate::KeptCosigned) -> Result<()>) -> Result<()> {
        // In the order kept, a batch at a time.
        let mut after = 0i64;
        let mut seen = 0u64;
        loop {
            let rows = self.read_cosigned(
                "SELECT tree_size, witnessed_at, note, stamp, position \
                 FROM modelseal_evidence.cosigned WHERE position > $1 ORDER BY position LIMIT 500",
                &[&after],
            )?;
            if rows.is_empty() {
                return Ok(());
            }
            for (kept, position) in rows {
                seen += 1;
                if seen > crate::MAX_KEPT_COSIGNED {
                    return Err(Error::Evidence(format!(
                        "{}: more than {} kept cosigned checkpoints",
                        self.spec,
                        crate::MAX_KEPT_COSIGNED
                    )));
                }
                after = position;
                visit(kept)?;
            }
        }
    }

    fn may_have_uncheckpointed_tail(&self) -> bool {
        false
    }
}

impl PgStore {
    /// Reads kept cosigned checkpoints; a database of schema version 1
    /// keeps none.
    fn read_cosigned(
        &self,
        query: &str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<Vec<(crate::KeptCosigned, i64)>> {
        let spec = &self.spec;
        let result = self.with_client(|client| match client.query(query, params) {
            Ok(rows) => Ok(rows),
            Err(e) if e.code() == Some(&SqlState::UNDEFINED_TABLE) => Ok(Vec::new()),
            Err(e) => Err(Failed::Final(pg_error(spec, &e))),
        });
        let rows = match result {
            Ok(rows) => rows,
            Err(Failed::Final(e) | Failed::Transient(e)) => return Err(e),
        };
        rows.iter()
            .map(|row| {
                let size: i64 = row.get(0);
                let at: i64 = row.get(1);
                crate::KeptCosigned::new(
                    u64::try_from(size).unwrap_or(0),
                    u64::try_from(at).unwrap_or(0),
                    row.get(2),
                    row.get(3),
                )
                .map(|kept| (kept, row.get(4)))
            })
            .collect()
    }
}

/// An error keeping a cosigned checkpoint: a database of schema version 1
/// has no place for it.
fn cosigned_error(spec: &ConnectSpec, e: &postgres::Error) -> Error {
    if e.code() == Some(&SqlState::UNDEFINED_TABLE) {
        return Error::Evidence(format!(
            "{spec}: the evidence schema is version 1, which keeps no cosigned checkpoints; \
             its owner upgrades it to version 2 (`modelseal evidence init --upgrade`)"
        ));
    }
    pg_error(spec, e)
}

/// Visits the rows of the records query as they arrive, until an empty
/// batch (the end), an error, or the visitor's refusal.
fn visit_rows(
    batches: &std::sync::mpsc::Receiver<std::result::Result<Vec<postgres::Row>, postgres::Error>>,
    visit: &mut dyn FnMut(ScanItem<'_>) -> Result<()>,
    err: &dyn Fn(postgres::Error) -> Failed,
) -> std::result::Result<(), Failed> {
    for rows in batches {
        let rows = rows.map_err(err)?;
        if rows.is_empty() {
            return Ok(());
        }
        for row in rows {
            let index: i64 = row.get(0);
            let len: i64 = row.get(1);
            let bytes: Option<&[u8]> = row.get(2);
            let stored: &[u8] = row.get(3);
            let item = match bytes {
                Some(bytes) => ScanItem::Record {
                    bytes,
                    index: u64::try_from(index).ok(),
                    leaf_hash: Some(stored),
                },
                None => ScanItem::Oversized { len: len as u64 },
            };
            visit(item).map_err(Failed::Final)?;
        }
    }
    // The fetcher ended without sending the end: it cannot have, as it
    // sends every result, so this is a failure, not a short log.
    Err(Failed::Final(Error::Evidence(
        "the records ended without the end of the query".into(),
    )))
}

impl PgStore {
    /// Reads the checkpoint, then the records from leaf `first` on, in one
    /// consistent snapshot (see [`EvidenceStore::scan`]).
    fn scan_at(&self, first: i64, visit: &mut dyn FnMut(ScanItem<'_>) -> Result<()>) -> Result<()> {
        let spec = &self.spec;

        let result = self.with_client(|client| {
            let err = |e: postgres::Error| Failed::Final(pg_error(spec, &e));
            let mut tx = client
                .build_transaction()
                .isolation_level(IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .map_err(err)?;
            let note: Option<String> = tx
                .query_opt(
                    "SELECT note FROM modelseal_evidence.checkpoints ORDER BY tree_size DESC LIMIT 1",
                    &[],
                )
                .map_err(err)?
                .map(|row| row.get(0));
            visit(ScanItem::Checkpoint(note.as_deref())).map_err(Failed::Final)?;
            let portal = tx
                .bind(
                    "SELECT leaf_index, octet_length(record)::bigint, \
                            CASE WHEN octet_length(record) <= $1 THEN record END, leaf_hash \
                     FROM modelseal_evidence.records WHERE leaf_index >= $2 ORDER BY leaf_index",
                    &[&(MAX_RECORD as i32), &first],
                )
                .map_err(err)?;
            // The next rows are fetched (by another thread) while these are
            // visited; at most one batch waits in between.
            let (sender, receiver) = std::sync::mpsc::sync_channel(1);
            let fetching = &mut tx;
            let portal = &portal;
            let visited = std::thread::scope(|scope| {
                let fetcher = scope.spawn(move || {
                    loop {
                        let rows = fetching.query_portal(portal, FETCH_ROWS);
                        let last = rows.as_ref().map_or(true, Vec::is_empty);
                        // A closed channel: the visitor stopped.
                        if sender.send(rows).is_err() || last {
                            break;
                        }
                    }
                });
                let visited = visit_rows(&receiver, visit, &err);
                // Stops the fetcher at its next batch if the visitor stopped.
                drop(receiver);
                let fetched = fetcher.join();
                visited.and_then(|()| {
                    fetched.map_err(|_| {
                        Failed::Final(Error::Evidence(format!("{spec}: the reading thread failed")))
                    })
                })
            });
            visited?;
            tx.commit().map_err(err)?;
            Ok(())
        });
        match result {
            Ok(()) => Ok(()),
            Err(Failed::Final(e) | Failed::Transient(e)) => Err(e),
        }
    }
}

/// Quotes an SQL identifier (a role name).
fn quote_ident(name: &str) -> Result<String> {
    if name.is_empty() || name.contains('\0') || name.len() > 63 {
        return Err(Error::Usage(format!("{name:?} is not a role name")));
    }
    Ok(format!("\"{}\"", name.replace('"', "\"\"")))
}

/// Creates the log's schema in the database at `spec` (once, as the role
/// that is to own it) for logs sealed by `key`, and grants `writers` what
/// appending needs and `readers` what verifying needs.
pub fn init(
    spec: &ConnectSpec,
    key: &VerifyingKey,
    writers: &[String],
    readers: &[String],
) -> Result<()> {
    for role in writers.iter().chain(readers) {
        quote_ident(role)?;
    }
    let mut client = connect_client(spec)?;
    let err = |e: postgres::Error| Error::Evidence(format!("{spec}: {}", describe(&e)));
    let mut tx = client.transaction().map_err(err)?;
    let exists: bool = tx
        .query_one(
            "SELECT to_regnamespace('modelseal_evidence') IS NOT NULL",
            &[],
        )
        .map_err(err)?
        .get(0);
    if exists {
        return Err(Error::Evidence(format!(
            "{spec}: the evidence schema exists already (init runs once)"
        )));
    }
    tx.batch_execute(SCHEMA_SQL).map_err(err)?;
    tx.batch_execute(SCHEMA_V2_SQL).map_err(err)?;
    tx.execute(
        "INSERT INTO modelseal_evidence.meta (schema_version, key_origin) VALUES ($1, $2)",
        &[&SCHEMA_VERSION, &key_origin(key)],
    )
    .map_err(err)?;
    grant(&mut tx, writers, readers).map_err(err)?;
    tx.commit().map_err(err)
}

/// Grants `writers` what appending and keeping cosigned checkpoints need,
/// and `readers` what verifying needs.
fn grant(
    tx: &mut postgres::Transaction<'_>,
    writers: &[String],
    readers: &[String],
) -> std::result::Result<(), postgres::Error> {
    for writer in writers {
        let Ok(role) = quote_ident(writer) else {
            continue; // Checked by the caller.
        };
        tx.batch_execute(&format!(
            "GRANT USAGE ON SCHEMA modelseal_evidence TO {role}; \
             GRANT SELECT, INSERT ON modelseal_evidence.records, modelseal_evidence.checkpoints, \
                 modelseal_evidence.cosigned TO {role}; \
             GRANT SELECT ON modelseal_evidence.meta TO {role};"
        ))?;
    }
    for reader in readers {
        let Ok(role) = quote_ident(reader) else {
            continue;
        };
        tx.batch_execute(&format!(
            "GRANT USAGE ON SCHEMA modelseal_evidence TO {role}; \
             GRANT SELECT ON ALL TABLES IN SCHEMA modelseal_evidence TO {role};"
        ))?;
    }
    Ok(())
}

/// Upgrades the log's schema at `spec` to the current version (as the role
/// that owns it): a version 1 database gets the table of cosigned
/// checkpoints; `writers` may then keep them and `readers` read them.
/// Returns the version found. Nothing already kept is touched.
pub fn upgrade(spec: &ConnectSpec, writers: &[String], readers: &[String]) -> Result<i32> {
    for role in writers.iter().chain(readers) {
        quote_ident(role)?;
    }
    let mut client = connect_client(spec)?;
    let err = |e: postgres::Error| Error::Evidence(format!("{spec}: {}", describe(&e)));
    let mut tx = client.transaction().map_err(err)?;
    // One upgrade at a time: a second waits here, then finds version 2.
    tx.batch_execute("LOCK TABLE modelseal_evidence.meta IN EXCLUSIVE MODE")
        .map_err(|e| pg_error(spec, &e))?;
    let row = tx
        .query_opt(
            "SELECT max(schema_version), min(key_origin) FROM modelseal_evidence.meta",
            &[],
        )
        .map_err(|e| pg_error(spec, &e))?;
    let (found, origin): (Option<i32>, Option<String>) =
        row.map_or((None, None), |r| (r.get(0), r.get(1)));
    let (Some(found), Some(origin)) = (found, origin) else {
        return Err(Error::Evidence(format!(
            "{spec}: the evidence schema has no version (it was not made by `modelseal evidence init`)"
        )));
    };
    if found > SCHEMA_VERSION {
        return Err(Error::Evidence(format!(
            "{spec}: the evidence schema is version {found}, newer than this modelseal knows ({SCHEMA_VERSION})"
        )));
    }
    if found < 2 {
        tx.batch_execute(SCHEMA_V2_SQL).map_err(err)?;
        tx.execute(
            "INSERT INTO modelseal_evidence.meta (schema_version, key_origin) VALUES ($1, $2)",
            &[&SCHEMA_VERSION, &origin],
        )
        .map_err(err)?;
    }
    // The roles version 1 granted keep what they had: whoever may insert
    // records may keep cosigned checkpoints, whoever may read them may
    // read these.
    let granted = tx
        .query(
            "SELECT DISTINCT grantee::text, privilege_type::text FROM information_schema.table_privileges \
             WHERE table_schema = 'modelseal_evidence' AND table_name = 'records' \
               AND privilege_type IN ('INSERT', 'SELECT') \
               AND grantee::text <> (SELECT tableowner::text FROM pg_tables \
                                     WHERE schemaname = 'modelseal_evidence' AND tablename = 'records')",
            &[],
        )
        .map_err(err)?;
    let mut all_writers: Vec<String> = writers.to_vec();
    let mut all_readers: Vec<String> = readers.to_vec();
    for row in &granted {
        let (role, privilege): (String, String) = (row.get(0), row.get(1));
        let list = if privilege == "INSERT" {
            &mut all_writers
        } else {
            &mut all_readers
        };
        if !list.contains(&role) && quote_ident(&role).is_ok() {
            list.push(role);
        }
    }
    grant(&mut tx, &all_writers, &all_readers).map_err(err)?;
    tx.commit().map_err(err)?;
    Ok(found)
}
