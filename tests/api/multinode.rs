//! Several nodes on one PostgreSQL database, set up as the README's "Running several nodes"
//! says: two `dsar serve --no-worker` processes and two `dsar worker` processes, each with a
//! storage folder of its own (files are shared through the database), behind a small proxy
//! that sends each request where the test says, or in turn, and goes to the other node when
//! one does not answer, as a load balancer with a health check would.
//!
//! PostgreSQL only (a SQLite file belongs to one machine): skips with the reason printed when
//! it is absent; CI sets DSAR_TEST_REQUIRE_POSTGRES=1 and DSAR_TEST_REQUIRE_BROWSER=1.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::{Connection, RunQueryDsl};

use crate::browser::Driver;
use crate::helpers::{PgDatabase, STAFF_PASSWORD, test_settings};
use crate::smtp_sink::{SmtpSink, free_port};
use crate::web::{Mail, Part, mails_in};

const DPO_EMAIL: &str = "dpo.nodes@example.org";
const NODE_NAMES: [&str; 2] = ["A", "B"];

/// Sends every request to the node the test chose, or to each node in turn; one request per
/// connection (`Connection: close` both ways), so that a browser's next request is routed
/// afresh. It adds `X-Forwarded-For`, as the README's proxy settings expect.
pub struct Proxy {
    pub port: u16,
    route: Arc<AtomicUsize>,
    served: Arc<Mutex<Vec<(usize, String)>>>,
    stop: Arc<AtomicBool>,
}

const IN_TURN: usize = usize::MAX;

impl Proxy {
    pub fn start(backends: Vec<u16>) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        let port = listener.local_addr().expect("proxy address").port();
        listener.set_nonblocking(true).expect("non-blocking accept");
        let route = Arc::new(AtomicUsize::new(IN_TURN));
        let served = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let backends = Arc::new(backends);
        let next = Arc::new(AtomicUsize::new(0));
        {
            let (route, served, stop) = (route.clone(), served.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((client, _)) => {
                            let (backends, route, next, served) = (
                                backends.clone(),
                                route.clone(),
                                next.clone(),
                                served.clone(),
                            );
                            std::thread::spawn(move || {
                                if let Err(e) = relay(client, &backends, &route, &next, &served) {
                                    eprintln!("proxy: {e}");
                                }
                            });
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                            std::thread::sleep(Duration::from_millis(5));
                        }
                        Err(e) => panic!("proxy accept: {e}"),
                    }
                }
            });
        }
        Proxy {
            port,
            route,
            served,
            stop,
        }
    }

    /// Every next request goes to `node` (or the other one, while `node` is down).
    pub fn pin(&self, node: usize) {
        self.route.store(node, Ordering::SeqCst);
    }

    /// The requests served since the last call: (node, "METHOD /path").
    pub fn served(&self) -> Vec<(usize, String)> {
        std::mem::take(&mut *self.served.lock().expect("proxy log"))
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Reads a head (request or status line and headers) up to the blank line; `None` at the end
/// of the stream before any byte.
fn read_head(reader: &mut impl BufRead) -> std::io::Result<Option<Vec<String>>> {
    let mut lines = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return match lines.is_empty() {
                true => Ok(None),
                false => Err(std::io::ErrorKind::UnexpectedEof.into()),
            };
        }
        let line = line.trim_end_matches(['\r', '\n']).to_string();
        if line.is_empty() {
            return Ok(Some(lines));
        }
        lines.push(line);
    }
}

fn hop_by_hop(header: &str) -> bool {
    let name = header.split(':').next().unwrap_or("").trim();
    ["connection", "keep-alive", "proxy-connection"]
        .iter()
        .any(|h| name.eq_ignore_ascii_case(h))
}

fn relay(
    client: TcpStream,
    backends: &[u16],
    route: &AtomicUsize,
    next: &AtomicUsize,
    served: &Mutex<Vec<(usize, String)>>,
) -> std::io::Result<()> {
    client.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut from_client = BufReader::new(client.try_clone()?);
    let Some(head) = read_head(&mut from_client)? else {
        return Ok(());
    };
    let length: usize = head
        .iter()
        .filter_map(|h| h.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    from_client.read_exact(&mut body)?;
    let mut request = format!("{}\r\n", head[0]);
    for header in head[1..].iter().filter(|h| !hop_by_hop(h)) {
        request.push_str(&format!("{header}\r\n"));
    }
    request.push_str("X-Forwarded-For: 127.0.0.1\r\nConnection: close\r\n\r\n");
    let line: Vec<&str> = head[0].split_whitespace().collect();
    let what = format!("{} {}", line[0], line.get(1).unwrap_or(&""));
    let first = match route.load(Ordering::SeqCst) {
        IN_TURN => next.fetch_add(1, Ordering::SeqCst) % backends.len(),
        node => node,
    };
    // A node that refuses the connection, or closes it without a word (it was stopping), is
    // skipped for the other, as a load balancer retries on an empty response.
    for node in (0..backends.len()).map(|k| (first + k) % backends.len()) {
        let Ok(mut upstream) = TcpStream::connect(("127.0.0.1", backends[node])) else {
            continue;
        };
        upstream.write_all(request.as_bytes())?;
        upstream.write_all(&body)?;
        let mut from_node = BufReader::new(upstream);
        let Ok(Some(answer)) = read_head(&mut from_node) else {
            continue;
        };
        served.lock().expect("proxy log").push((node, what));
        let mut to_client = client;
        let mut head = format!("{}\r\n", answer[0]);
        for header in answer[1..].iter().filter(|h| !hop_by_hop(h)) {
            head.push_str(&format!("{header}\r\n"));
        }
        head.push_str("Connection: close\r\n\r\n");
        to_client.write_all(head.as_bytes())?;
        std::io::copy(&mut from_node, &mut to_client)?;
        return to_client.shutdown(std::net::Shutdown::Both);
    }
    let mut to_client = client;
    to_client
        .write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
}

/// The two nodes, the two workers, the proxy and their shared database.
pub struct Cluster {
    pub dir: tempfile::TempDir,
    pub pg: PgDatabase,
    pub proxy: Proxy,
    pub ports: [u16; 2],
    env: Vec<(String, String)>,
    nodes: [Option<Child>; 2],
    pub workers: Vec<Child>,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for child in self
            .nodes
            .iter_mut()
            .flatten()
            .chain(self.workers.iter_mut())
        {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn dsar_command(dir: &Path, env: &[(String, String)], log: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dsar"));
    cmd.args(args).current_dir(dir).env_remove("DSAR_CONFIG");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join(log))
        .expect("log file");
    cmd.stdout(Stdio::null())
        .stderr(Stdio::from(log))
        .stdin(Stdio::null());
    cmd
}

/// GET `path` on 127.0.0.1:`port`, straight to a node: the status code, or `None` when
/// nothing answers.
fn status_of(port: u16, path: &str) -> Option<u16> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let ask = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    stream.write_all(ask.as_bytes()).ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    answer.split_whitespace().nth(1)?.parse().ok()
}

impl Cluster {
    /// `None` (with the reason printed) when PostgreSQL is not configured and CI did not ask
    /// for it. `extra` settings apply to every process.
    pub fn start(extra: &[(&str, &str)]) -> Option<Cluster> {
        let pg = PgDatabase::create("dsar_nodes")?;
        let dir = tempfile::tempdir().expect("temp dir");
        let ports = [free_port(), free_port()];
        let proxy = Proxy::start(ports.to_vec());
        let shared = dir.path().join("shared");
        std::fs::create_dir_all(&shared).expect("shared dir");
        let mut env: Vec<(String, String)> = [
            ("DSAR_DATABASE__URL", pg.url.clone()),
            ("DSAR_DATABASE__POOL_SIZE", "4".into()),
            ("DSAR_DATABASE__AUTO_MIGRATE", "false".into()),
            ("DSAR_STORAGE__BACKEND", "database".into()),
            // The keys every node must share, as files here (a secret store in production).
            (
                "DSAR_SECURITY__SESSION_KEY_FILE",
                shared.join("session.key").display().to_string(),
            ),
            (
                "DSAR_FULFILMENT__KEY_FILE",
                shared.join("fulfilment.key").display().to_string(),
            ),
            (
                "DSAR_MAIL__OUTBOX_DIR",
                shared.join("outbox").display().to_string(),
            ),
            (
                "DSAR_ORGANISATION__BASE_URL",
                format!("http://127.0.0.1:{}", proxy.port),
            ),
            ("DSAR_ORGANISATION__LANGUAGE", "en".into()),
            ("DSAR_PORTAL__TRUST_FORWARDED_FOR", "true".into()),
            ("DSAR_HTTP__WORKERS", "2".into()),
            ("DSAR_WORKER__POLL_INTERVAL_MS", "100".into()),
            ("DSAR_WORKER__LEASE_SECONDS", "30".into()),
            ("DSAR_LOG__FILTER", "info".into()),
            ("NO_COLOR", "1".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        // The keys are made once, before any node starts, as an operator provisions them.
        let session_key = dsar::crypto::random_token() + &dsar::crypto::random_token();
        std::fs::write(shared.join("session.key"), session_key).expect("session key");
        std::fs::write(shared.join("fulfilment.key"), dsar::crypto::random_token()).expect("key");
        let migrated = dsar_command(dir.path(), &env, "migrate.log", &["migrate"])
            .status()
            .expect("dsar migrate runs");
        assert!(migrated.success(), "dsar migrate failed");
        let mut cluster = Cluster {
            dir,
            pg,
            proxy,
            ports,
            env,
            nodes: [None, None],
            workers: Vec::new(),
        };
        cluster.start_node(0);
        cluster.start_node(1);
        for _ in 0..2 {
            cluster.start_worker();
        }
        Some(cluster)
    }

    /// Each node keeps its own folder: nothing one of them writes there is seen by the other.
    fn node_env(&self, node: usize) -> Vec<(String, String)> {
        let own = self.dir.path().join(format!("node-{}", NODE_NAMES[node]));
        let mut env = self.env.clone();
        env.extend([
            (
                "DSAR_HTTP__BIND".to_string(),
                format!("127.0.0.1:{}", self.ports[node]),
            ),
            (
                "DSAR_STORAGE__DIR".to_string(),
                own.join("files").display().to_string(),
            ),
            (
                "DSAR_FULFILMENT__DIR".to_string(),
                own.join("exports").display().to_string(),
            ),
        ]);
        env
    }

    pub fn start_node(&mut self, node: usize) {
        let log = format!("node-{}.log", NODE_NAMES[node]);
        let child = dsar_command(
            self.dir.path(),
            &self.node_env(node),
            &log,
            &["serve", "--no-worker"],
        )
        .spawn()
        .expect("dsar serve starts");
        self.nodes[node] = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        while status_of(self.ports[node], "/readyz") != Some(200) {
            let exited = self.nodes[node]
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            assert!(
                Instant::now() < deadline && exited.is_none(),
                "node {} is not ready:\n{}",
                NODE_NAMES[node],
                self.log(&log)
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn start_worker(&mut self) {
        let n = self.workers.len();
        let env = self.node_env(n % 2);
        let child = dsar_command(
            self.dir.path(),
            &env,
            &format!("worker-{n}.log"),
            &["worker"],
        )
        .spawn()
        .expect("dsar worker starts");
        self.workers.push(child);
    }

    /// Stops a node as a rolling restart does (SIGTERM, in-flight requests finish), then
    /// starts it again on the same port.
    pub fn restart_node(&mut self, node: usize) {
        self.stop_node(node);
        self.start_node(node);
    }

    pub fn stop_node(&mut self, node: usize) {
        let mut child = self.nodes[node].take().expect("a running node");
        signal(child.id(), "TERM");
        let status = child.wait().expect("the node exits");
        assert!(
            status.success(),
            "node {} stopped with {status:?}",
            NODE_NAMES[node]
        );
    }

    pub fn log(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(name)).unwrap_or_default()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.proxy.port)
    }

    pub fn outbox(&self) -> PathBuf {
        self.dir.path().join("shared/outbox")
    }

    pub fn db(&self) -> diesel::pg::PgConnection {
        diesel::pg::PgConnection::establish(&self.pg.url).expect("the shared database")
    }

    /// A DPO account with [`STAFF_PASSWORD`], as an accepted invitation leaves it.
    pub fn add_dpo(&self) {
        let settings = test_settings(&self.pg.url, self.dir.path(), &[]);
        crate::helpers::staff_account_in(
            &mut dsar::store::connect_once(&settings.database).expect("the shared database"),
            DPO_EMAIL,
            "Dominique Lefèvre",
            dsar::staff::Role::Dpo,
            chrono::Utc::now(),
        );
    }

    /// Waits for the workers to mail `to` about `reference`.
    pub fn mail_about(&self, to: &str, reference: &str, after: usize) -> Mail {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let mails: Vec<Mail> = mails_in(&self.outbox(), to)
                .into_iter()
                .filter(|m| m.text.contains(reference))
                .collect();
            if mails.len() > after {
                return mails[after].clone();
            }
            assert!(
                Instant::now() < deadline,
                "no mail #{after} to {to} about {reference}; worker logs:\n{}\n{}",
                self.log("worker-0.log"),
                self.log("worker-1.log")
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

fn signal(pid: u32, signal: &str) {
    let sent = Command::new("kill")
        .args([&format!("-{signal}"), &pid.to_string()])
        .status()
        .expect("kill runs");
    assert!(sent.success(), "kill -{signal} {pid}");
}

/// Asserts that the requests served since the last look that match `what` were all served
/// by `node`, and that there was at least one.
fn all_on(proxy: &Proxy, what: &str, node: usize) {
    let served = proxy.served();
    let nodes: Vec<usize> = served
        .iter()
        .filter(|(_, w)| w.contains(what))
        .map(|(node, _)| *node)
        .collect();
    assert!(
        !nodes.is_empty() && nodes.iter().all(|n| *n == node),
        "{what} should have been served by node {} alone: {served:?}",
        NODE_NAMES[node]
    );
}

/// A French person's access request, each step on the other node: filed on A, confirmed on
/// B, the identity document uploaded on A, the DPO's decision on B, gathered and packaged by
/// whichever worker takes each job, downloaded on A. Node A is restarted after the upload
/// and node B while the sources run: the person and the DPO go on as if nothing happened.
#[actix_web::test]
async fn a_request_crosses_both_nodes_and_survives_restarts() {
    let files = tempfile::tempdir().expect("temp dir");
    let demo = dsar::demo::prepare(files.path()).expect("the demonstration data");
    let mut extra = demo.env();
    extra.push(("DSAR_IDENTITY__ACCESS", "document"));
    let Some(mut cluster) = Cluster::start(&extra) else {
        return;
    };
    let Some(d) = Driver::start().await else {
        return;
    };
    cluster.add_dpo();
    let camille = &dsar::demo::CAMILLE;
    let (a, b) = (0, 1);

    // Filed on A.
    cluster.proxy.pin(a);
    d.goto(&cluster.url("/fr/")).await;
    d.click("a[href='/fr/request/access']").await;
    d.fill("name", camille.name).await;
    d.fill("email", camille.email).await;
    d.choose("access_scope", "all").await;
    d.click_text("Envoyer ma demande").await;
    let page = d.expect("Votre demande est enregistrée").await;
    let reference = crate::journeys::reference_in(&page);
    all_on(&cluster.proxy, "POST /fr/request/access", a);

    // Confirmed on B, from the link a worker mailed.
    let link = cluster
        .mail_about(camille.email, &reference, 0)
        .link()
        .expect("a mailed link");
    cluster.proxy.pin(b);
    d.goto(&cluster.url(&link)).await;
    d.expect("votre adresse électronique est confirmée").await;
    all_on(&cluster.proxy, &link, b);

    // The identity document uploaded on A; A is then restarted, and the person's next look
    // at the request is answered by B while A is down, then by A again.
    cluster.proxy.pin(a);
    let card = crate::journeys::id_card(files.path());
    d.type_into("input[name='document']", &card.display().to_string())
        .await;
    d.click_text("Envoyer le justificatif").await;
    d.expect(&reference).await;
    all_on(&cluster.proxy, "/identity", a);
    cluster.stop_node(a);
    d.goto(&cluster.url(&link)).await;
    d.expect(&reference).await;
    all_on(&cluster.proxy, &link, b);
    cluster.start_node(a);

    // The DPO signs in and decides on B: the document uploaded through A is there.
    cluster.proxy.pin(b);
    d.goto(&cluster.url("/admin")).await;
    d.fill("email", DPO_EMAIL).await;
    d.fill("password", STAFF_PASSWORD).await;
    d.click_text("Sign in").await;
    d.expect("Dominique").await;
    let request_page = cluster.url(&format!("/admin/requests/{reference}"));
    d.goto(&request_page).await;
    let page = d.expect(&reference).await;
    let document = page
        .split("href=\"/admin/documents/")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .map(|id| format!("/admin/documents/{id}"))
        .expect("a link to the identity document");
    d.goto(&cluster.url(&document)).await;
    let shown = d.source().await;
    assert!(shown.contains("<img"), "the document opens on B: {shown}");
    d.goto(&request_page).await;
    d.click_text("Accept").await;
    d.expect("identity document").await;
    d.click_text("Send to the sources").await;
    d.expect(&reference).await;
    let on_b = cluster.proxy.served();
    assert!(
        on_b.iter().all(|(node, _)| *node == b),
        "the DPO's steps all on B: {on_b:?}"
    );

    // B restarts while the workers gather: the DPO's session holds (it is in the database).
    cluster.restart_node(b);
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut page;
    loop {
        d.goto(&request_page).await;
        page = d.expect(&reference).await;
        if page.contains("/tasks/") {
            // The archives team answers its task, as in the single-node journeys.
            d.fill("comment", "Dossiers du siège consultés.").await;
            d.click_text(if page.contains("Nothing found") {
                "Nothing found"
            } else {
                "Done"
            })
            .await;
            d.expect("The task is done.").await;
            continue;
        }
        if page.contains("Release to the requester") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the package was never ready:\n{page}\n{}\n{}",
            cluster.log("worker-0.log"),
            cluster.log("worker-1.log")
        );
        actix_web::rt::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(
        !page.contains("Sign in"),
        "still signed in after B restarted"
    );
    d.click_text("Release to the requester").await;
    d.expect("released").await;
    let deadline = Instant::now() + Duration::from_secs(60);
    while !d.source().await.contains("Send the answer") {
        assert!(Instant::now() < deadline, "no answer to send");
        actix_web::rt::time::sleep(Duration::from_millis(500)).await;
        d.goto(&request_page).await;
    }
    d.click_text("Send the answer").await;
    d.expect("fulfilled").await;
    cluster.proxy.served();

    // The person downloads the package on A, which no worker wrote to.
    cluster.mail_about(camille.email, &reference, 1);
    cluster.proxy.pin(a);
    d.goto(&cluster.url(&link)).await;
    d.download_text("Télécharger vos données (zip)").await;
    let zip = d.downloaded(".zip").await;
    let shop = crate::journeys::shop_json(&zip);
    assert!(shop.contains(camille.email), "{shop}");
    all_on(&cluster.proxy, "/export", a);
    d.screenshots("nodes-status-answered").await;
    d.quit().await;

    // Nothing of the person's went to a node's own folder: the files are in the database.
    for node in NODE_NAMES {
        let own = cluster.dir.path().join(format!("node-{node}"));
        let stored: Vec<_> = walk(&own)
            .into_iter()
            .filter(|p| !p.components().any(|c| c.as_os_str() == "incoming"))
            .collect();
        assert!(stored.is_empty(), "files on node {node}'s disk: {stored:?}");
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .flat_map(|e| match e.path().is_dir() {
            true => walk(&e.path()),
            false => vec![e.path()],
        })
        .collect()
}

#[derive(diesel::QueryableByName)]
struct Holder {
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    locked_by: Option<String>,
}

/// A worker killed with SIGKILL in the middle of sending a mail: its lease runs out and the
/// other worker sends the mail, once.
#[actix_web::test]
async fn a_worker_killed_mid_job_has_its_job_finished_by_the_other() {
    let smtp_port = free_port();
    let sink = SmtpSink::start(smtp_port);
    sink.hold(true);
    let smtp_url = format!("smtp://127.0.0.1:{smtp_port}");
    let Some(mut cluster) = Cluster::start(&[
        ("DSAR_MAIL__SMTP_URL", &smtp_url),
        ("DSAR_MAIL__TIMEOUT_SECONDS", "120"),
    ]) else {
        return;
    };
    // Filed on the portal, as a person would: the confirmation mail is the job.
    let email = "killed.worker@example.org";
    let client = awc::Client::builder().disable_redirects().finish();
    let mut form = client
        .get(cluster.url("/fr/request/access"))
        .send()
        .await
        .expect("the portal answers");
    let cookies: Vec<String> = form
        .headers()
        .get_all("set-cookie")
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .map(str::to_string)
        .collect();
    let html = String::from_utf8_lossy(&form.body().await.expect("the form")).to_string();
    let csrf = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the form's CSRF token")
        .to_string();
    let (content_type, body) = crate::web::multipart(&[
        Part::Field("csrf", &csrf),
        Part::Field("name", "Irène Durand"),
        Part::Field("email", email),
        Part::Field("country", "FR"),
        Part::Field("acting", "self"),
        Part::Field("access_scope", "all"),
    ]);
    let mut res = client
        .post(cluster.url("/fr/request/access"))
        .insert_header(("Cookie", cookies.join("; ")))
        .insert_header(("Content-Type", content_type))
        .send_body(body)
        .await
        .expect("the portal answers");
    let body = res.body().await.unwrap_or_default();
    assert_eq!(
        res.status().as_u16(),
        303,
        "the request is filed: {}",
        String::from_utf8_lossy(&body)
    );

    // Wait until a worker holds the mail job, stuck in the SMTP conversation.
    let mut db = cluster.db();
    let deadline = Instant::now() + Duration::from_secs(30);
    let holder = loop {
        let held: Vec<Holder> = diesel::sql_query(
            "SELECT locked_by FROM jobs WHERE kind = 'send_mail' AND locked_by IS NOT NULL",
        )
        .load(&mut db)
        .expect("jobs");
        if let Some(by) = held.into_iter().find_map(|h| h.locked_by) {
            break by;
        }
        assert!(Instant::now() < deadline, "no worker took the mail");
        std::thread::sleep(Duration::from_millis(100));
    };
    let pid: u32 = holder
        .split('-')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("a worker id starts with its process id");
    let doomed = cluster
        .workers
        .iter()
        .position(|w| w.id() == pid)
        .expect("one of our workers holds the job");
    signal(pid, "KILL");
    let status = cluster.workers[doomed].wait().expect("killed");
    assert!(!status.success(), "{status:?}");
    let killed_at = Instant::now();

    // The SMTP server answers again; the other worker takes the job once its lease (30 s, the
    // shortest allowed) has run out, and the mail goes, once.
    sink.hold(false);
    let deadline = Instant::now() + Duration::from_secs(90);
    while !sink.messages().iter().any(|m| m.contains(email)) {
        assert!(
            Instant::now() < deadline,
            "the mail was never sent by the other worker"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let waited = killed_at.elapsed();
    println!("the mail went {waited:?} after its worker was killed (lease: 30 s)");
    std::thread::sleep(Duration::from_secs(2));
    let sent: Vec<_> = sink
        .messages()
        .into_iter()
        .filter(|m| m.contains(email))
        .collect();
    assert_eq!(sent.len(), 1, "sent once");
    assert!(
        waited >= Duration::from_secs(20),
        "taken over only once the lease ran out (after {waited:?})"
    );
    let left: Vec<Holder> = diesel::sql_query(
        "SELECT locked_by FROM jobs WHERE kind = 'send_mail' AND status <> 'done'",
    )
    .load(&mut db)
    .unwrap_or_default();
    assert!(left.is_empty(), "the mail job is done");
}
